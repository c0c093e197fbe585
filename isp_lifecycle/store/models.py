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


class Review(Base):
    """One portfolio review, identified by ``as_of`` and ``mission`` ('' = every mission).

    ``status``: ``running`` while chunks are processed, ``incomplete`` when one failed (running
    the same review again completes the rest), ``complete`` once every chunk and the digests are in.
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    mission: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # running | incomplete | complete
    chunk_size: Mapped[int] = mapped_column(Integer)
    rules_digest: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("as_of", "mission", name="uq_reviews_as_of_mission"),)


class ReviewChunk(Base):
    """A slice of a review's partnerships: ids in ``(after_id, last_id]``, fixed when the review starts."""

    __tablename__ = "review_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    seq: Mapped[int] = mapped_column(Integer)
    after_id: Mapped[str] = mapped_column(String(63))  # '' before the first id
    last_id: Mapped[str] = mapped_column(String(63))
    done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(Text, nullable=True)  # host and process that recorded it

    __table_args__ = (UniqueConstraint("review_id", "seq", name="uq_review_chunks_seq"),)


class ReviewResult(Base):
    """What one review found for one partnership: the verdict of its current gate and its alerts."""

    __tablename__ = "review_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    document_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    mission: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    days_in_stage: Mapped[int] = mapped_column(Integer)
    director: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[dict] = mapped_column(JSON)
    blocking: Mapped[int] = mapped_column(Integer)  # blocking findings in ``verdict``: 0 = ready
    alerts: Mapped[list] = mapped_column(JSON)
    new_alerts: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("review_id", "partnership_id", name="uq_review_results_partnership"),
        Index("ix_review_results_director", "review_id", "director"),
    )


class StandingAlert(Base):
    """An alert (same alert, same subject) from the review that first raised it until one that no
    longer does (``cleared_at``). Open rows decide what is new, hence sent to the leaders."""

    __tablename__ = "standing_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    alert: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen: Mapped[date] = mapped_column(Date)
    cleared_at: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (Index("ix_standing_alerts_open", "partnership_id", "cleared_at"),)


class ApiToken(Base):
    """An API token for scripts and the ``isp`` command: only the SHA-256 of its secret is kept,
    so a copy of the database grants nothing. ``method`` is ``operator-token`` for tokens made on
    the service's host (``isp token create``) and ``token`` for those a signed-in person made."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_api_tokens_email", "email"),)
