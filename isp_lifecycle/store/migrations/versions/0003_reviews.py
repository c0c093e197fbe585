"""Portfolio reviews: the review itself (one per as_of and mission), its chunks, what it found
per partnership, and the standing alerts that decide which alerts are new (hence sent).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("mission", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("chunk_size", sa.Integer, nullable=False),
        sa.Column("rules_digest", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("as_of", "mission", name="uq_reviews_as_of_mission"),
    )
    op.create_table(
        "review_chunks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("after_id", sa.String(63), nullable=False),
        sa.Column("last_id", sa.String(63), nullable=False),
        sa.Column("done_at", sa.DateTime, nullable=True),
        sa.Column("done_by", sa.Text, nullable=True),
        sa.UniqueConstraint("review_id", "seq", name="uq_review_chunks_seq"),
    )
    op.create_table(
        "review_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id"), nullable=False),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mission", sa.Text, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("days_in_stage", sa.Integer, nullable=False),
        sa.Column("director", sa.Text, nullable=True),
        sa.Column("verdict", sa.JSON, nullable=False),
        sa.Column("blocking", sa.Integer, nullable=False),
        sa.Column("alerts", sa.JSON, nullable=False),
        sa.Column("new_alerts", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("review_id", "partnership_id", name="uq_review_results_partnership"),
    )
    op.create_index("ix_review_results_director", "review_results", ["review_id", "director"])
    op.create_table(
        "standing_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("alert", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.Column("cleared_at", sa.Date, nullable=True),
    )
    op.create_index("ix_standing_alerts_open", "standing_alerts", ["partnership_id", "cleared_at"])


def downgrade() -> None:
    op.drop_index("ix_standing_alerts_open", table_name="standing_alerts")
    op.drop_table("standing_alerts")
    op.drop_index("ix_review_results_director", table_name="review_results")
    op.drop_table("review_results")
    op.drop_table("review_chunks")
    op.drop_table("reviews")
