"""Signing in: single-use email links, browser sessions, rate-limit events and ``isp login``
device codes. Every secret is kept as its SHA-256 only.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("next_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("client", sa.Text, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_web_sessions_email", "web_sessions", ["email"])
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_rate_events_key_at", "rate_events", ["key", "at"])
    op.create_table(
        "device_logins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("device_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=True),
        sa.Column("approved_at", sa.DateTime, nullable=True),
        sa.Column("collected_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("device_logins")
    op.drop_index("ix_rate_events_key_at", table_name="rate_events")
    op.drop_table("rate_events")
    op.drop_index("ix_web_sessions_email", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("login_links")
