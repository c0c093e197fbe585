"""The store's tables (SQLAlchemy 2 declarative). Migrations in ``migrations/versions`` create them.

Timestamps are written as UTC ISO-8601 text by the services, not by the database, so that
both SQLite and PostgreSQL keep exactly what was hashed into the audit chain.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PartnershipRow(Base):
    """One partnership: where it stands now. ``row_version`` guards every change (optimistic)."""

    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    mission: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    stage_entered: Mapped[date] = mapped_column(Date)
    current_version: Mapped[int] = mapped_column(Integer)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (Index("ix_partnerships_stage", "stage"), Index("ix_partnerships_mission", "mission"))


class DocumentVersion(Base):
    """Every imported or moved document, never overwritten: ``document`` is canonical JSON."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))  # import | move
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("partnership_id", "version", name="uq_document_versions_version"),)


class GateEvaluation(Base):
    __tablename__ = "gate_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    document_version: Mapped[int] = mapped_column(Integer)
    gate: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list] = mapped_column(JSON)
    rules_version: Mapped[str] = mapped_column(Text)
    rules_digest: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_gate_evaluations_partnership", "partnership_id", "id"),)


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("gate_evaluations.id"), nullable=True)
    document_version: Mapped[int] = mapped_column(Integer)
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | stale
    decided_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_approval_requests_partnership_status", "partnership_id", "status"),)


class StageTransition(Base):
    __tablename__ = "stage_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    approval_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), unique=True)
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    applied_by: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class Notification(Base):
    """The outbox: queued in the transaction of the change that caused it, delivered later."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str | None] = mapped_column(ForeignKey("partnerships.id"), nullable=True)
    event: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only and chained: ``hmac`` = HMAC-SHA256(key, prev_hmac + canonical JSON of the fields)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(Text)
    os_user: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    partnership_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hmac: Mapped[str] = mapped_column(String(64))
    hmac: Mapped[str] = mapped_column(String(64))
