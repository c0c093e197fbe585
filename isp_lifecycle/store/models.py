"""The store's tables (SQLAlchemy 2 declarative). Migrations in ``migrations/versions`` create them.

Timestamps are naive UTC datetimes (``DateTime`` columns) set by the services' clock, never by
a database default, so that SQLite and PostgreSQL hold the same values and tests can fix the
clock. The one text timestamp is the audit log's ``at``: the UTC ISO-8601 string hashed into
its chain, kept as text so that both backends give back exactly what was hashed.

The portfolio review's classes are named ``PortfolioReview*`` (a "review" is also a stage and a
document's review record); their tables keep the names ``reviews``, ``review_chunks`` and
``review_results`` that migration 0003 created.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
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
    # a deliverer's claim (revision 0004): nobody else sends the row before ``lease_until``
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # of the last failed attempt

    __table_args__ = (Index("ix_notifications_status_id", "status", "id"),)


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


class PortfolioReview(Base):
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


class PortfolioReviewChunk(Base):
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


class PortfolioReviewResult(Base):
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


class Installation(Base):
    """One row: the store's random installation id, made when the schema is created. It goes
    into every Message-ID, so two stores never give two different messages the same id."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    installation_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


# The portfolio clock (migration 0008): ``ticks`` move whenever any partnership row is written,
# or since 0009 one of its requests or evaluations (triggers do it, at commit on PostgreSQL), and ``portfolio_changes`` says which partnership
# each tick wrote, so the service's portfolio snapshot knows it is current from one row and
# re-reads only what changed. Bookkeeping of the schema, like alembic's version table: not in
# ``Base.metadata``, so what empties or copies "every table" leaves the clock moving on.
_clock_metadata = MetaData()
portfolio_clock = Table("portfolio_clock", _clock_metadata,
                        Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
                        Column("ticks", BigInteger, nullable=False),
                        # moves when a token is revoked, re-dated or deleted (migration 0009)
                        Column("credentials", BigInteger, nullable=False))
portfolio_changes = Table("portfolio_changes", _clock_metadata,
                          Column("tick", BigInteger, nullable=False),
                          Column("partnership_id", String(63), nullable=False))


def portfolio_ticks(session) -> int:
    """Where the portfolio clock stands now (committed writes only)."""
    return session.execute(select(portfolio_clock.c.ticks).where(portfolio_clock.c.id == 1)).scalar_one()


def clock_reading(session) -> tuple[int, int]:
    """(Portfolio ticks, credentials ticks) now, in one read of the clock's row."""
    found = session.execute(select(portfolio_clock.c.ticks, portfolio_clock.c.credentials)
                            .where(portfolio_clock.c.id == 1)).one()
    return found.ticks, found.credentials


def portfolio_changed_since(session, tick: int) -> tuple[int | None, set[str]]:
    """(The first tick logged after ``tick``, or None; the partnerships written since ``tick``).
    Ticks have no gaps: a first tick beyond ``tick + 1`` means the log was pruned past it."""
    rows = session.execute(select(portfolio_changes.c.tick, portfolio_changes.c.partnership_id)
                           .where(portfolio_changes.c.tick > tick)).all()
    return min((r.tick for r in rows), default=None), {r.partnership_id for r in rows}


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


class LoginLink(Base):
    """A single-use sign-in link sent by email: only the SHA-256 of its secret is kept, so the
    outbox, a backup or a copy of the database cannot sign anyone in. ``used_at`` set = spent."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(Text)
    next_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    """A signed-in browser: the cookie holds a secret whose SHA-256 is kept here; ``id`` is the
    public name the audit log records. Ends at ``expires_at`` (absolute), after the idle limit
    since ``last_seen_at``, or when ``revoked_at`` is set (sign-out, account page)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16))  # email-link | oidc
    client: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_web_sessions_email", "email"),)


class RateEvent(Base):
    """One counted request (a sign-in link asked for) under a limit's key (``email:…``,
    ``client:…``): counting rows newer than the window gives "in any 15 minutes" exactly, and
    every copy of ``isp web`` on one store shares them."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)


class DeviceLogin(Base):
    """An ``isp login`` in progress: the command holds ``device_code`` (kept as a hash) and polls;
    the person confirms ``user_code`` in a signed-in browser; the token is made when the command
    collects it (``collected_at``), so its secret exists only in that one answer."""

    __tablename__ = "device_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    approved_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
from . import assessment_models  # noqa: E402,F401  (the assessment tables join Base.metadata)
