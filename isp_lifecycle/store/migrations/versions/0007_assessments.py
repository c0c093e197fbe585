"""The partners' self-assessment: invitations per review and contact, their ratings per
principle, whether each partner still takes part in each initiative, and lessons learned.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id"), nullable=False),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.String(63), nullable=False),
        sa.Column("partner_name", sa.Text, nullable=False),
        sa.Column("sector", sa.String(16), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=False),
        sa.Column("closes_at", sa.DateTime, nullable=False),
        sa.Column("reminded_at", sa.DateTime, nullable=True),
        sa.Column("declined_at", sa.DateTime, nullable=True),
        sa.Column("answered_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("review_id", "partnership_id", "email", name="uq_assessments_contact"),
    )
    op.create_index("ix_assessments_partnership", "assessments", ["partnership_id", "as_of"])
    op.create_index("ix_assessments_open", "assessments", ["reminded_at", "closes_at"])
    op.create_table(
        "assessment_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assessment_id", sa.Integer, sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("principle", sa.String(32), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("attributed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("assessment_id", "principle", name="uq_assessment_ratings_principle"),
    )
    op.create_table(
        "assessment_taking_part",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assessment_id", sa.Integer, sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("initiative", sa.String(63), nullable=False),
        sa.Column("stays", sa.Boolean, nullable=False),
        sa.UniqueConstraint("assessment_id", "initiative", name="uq_assessment_taking_initiative"),
    )
    op.create_table(
        "assessment_lessons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assessment_id", sa.Integer, sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("principle", sa.String(32), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("shareable", sa.Boolean, nullable=False),
        sa.Column("given_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_assessment_lessons_given", "assessment_lessons", ["given_on", "partnership_id"])


def downgrade() -> None:
    op.drop_index("ix_assessment_lessons_given", table_name="assessment_lessons")
    op.drop_table("assessment_lessons")
    op.drop_table("assessment_taking_part")
    op.drop_table("assessment_ratings")
    op.drop_index("ix_assessments_open", table_name="assessments")
    op.drop_index("ix_assessments_partnership", table_name="assessments")
    op.drop_table("assessments")
