"""Index partnerships by stage and by mission: `isp list --stage/--mission` and the portfolio
review filter on them, and a portfolio of thousands should not be scanned for each.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_partnerships_stage", "partnerships", ["stage"])
    op.create_index("ix_partnerships_mission", "partnerships", ["mission"])


def downgrade() -> None:
    op.drop_index("ix_partnerships_mission", table_name="partnerships")
    op.drop_index("ix_partnerships_stage", table_name="partnerships")
