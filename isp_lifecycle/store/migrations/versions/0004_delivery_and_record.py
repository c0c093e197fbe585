"""Messages never merged or doubled: the store's installation id (what makes Message-IDs
unique across stores), a delivery lease on each outbox row (so that concurrent deliverers
send each row once), and the reason of a row's last failure.

Revision ID: 0004
Revises: 0003
"""

import secrets
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("installation_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.bulk_insert(installation, [{
        "id": 1, "installation_id": secrets.token_hex(16),
        "created_at": datetime.now(timezone.utc).replace(tzinfo=None),
    }])
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("failure_reason", sa.Text, nullable=True))
    op.create_index("ix_notifications_status_id", "notifications", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_status_id", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("failure_reason")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
    op.drop_table("installation")
