"""The store's first schema: partnerships, document versions, evaluations, approvals,
transitions, the notification outbox and the audit chain.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partnerships",
        sa.Column("id", sa.String(63), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mission", sa.Text, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("stage_entered", sa.Date, nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("partnership_id", "version", name="uq_document_versions_version"),
    )
    op.create_table(
        "gate_evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("gate", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("rules_version", sa.Text, nullable=False),
        sa.Column("rules_digest", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_gate_evaluations_partnership", "gate_evaluations", ["partnership_id", "id"])
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("evaluation_id", sa.Integer, sa.ForeignKey("gate_evaluations.id"), nullable=True),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=False),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_approval_requests_partnership_status", "approval_requests", ["partnership_id", "status"]
    )
    op.create_table(
        "stage_transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=False),
        sa.Column("approval_id", sa.Integer, sa.ForeignKey("approval_requests.id"), nullable=False, unique=True),
        sa.Column("from_stage", sa.String(16), nullable=False),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=False),
        sa.Column("to_version", sa.Integer, nullable=False),
        sa.Column("applied_by", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partnership_id", sa.String(63), sa.ForeignKey("partnerships.id"), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("os_user", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("partnership_id", sa.String(63), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hmac", sa.String(64), nullable=False),
        sa.Column("hmac", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "notifications",
        "stage_transitions",
        "approval_requests",
        "gate_evaluations",
        "document_versions",
        "partnerships",
    ):
        op.drop_table(table)
