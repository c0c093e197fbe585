"""The unit of work every service command runs in, and the store lookups they share.

``run_command(store, action, partnership_id, actor, clock, work)`` runs ``work(uow)`` in one
transaction: all of it happens or none. A refusal (``RefusedOperation``, or a lost race
turned into ``StaleUpdate``) rolls back and then writes one audit entry recording it, so a
refused command about a known partnership leaves the store as it was but for that entry. An
unknown id (``UnknownPartnership``) or an invalid document writes nothing at all.

``read(store, work)`` runs a read-only ``work(session)``; ``Repository`` holds the lookups
that several commands and views repeat (current version, pending request, latest
evaluation, unapplied approval), so each is written once.
"""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import outbox
from .document import validate
from .errors import RefusedOperation, StaleUpdate, StoreError, UnknownPartnership
from .identity import Identity
from .model import Partnership
from .store import Store, audit
from .store.models import (
    ApprovalRequest,
    DocumentVersion,
    GateEvaluation,
    PartnershipRow,
    StageTransition,
)
from .vocabulary import RequestStatus


# Who is acting, as a front end established it (the web layer sets it for the length of a
# request, ``access.acting``): services called without an explicit ``identity`` use it, so
# every audit entry written meanwhile names the verified caller instead of an asserted one.
acting: ContextVar[Identity | None] = ContextVar("acting", default=None)


def established(identity: Identity | None, who: str | None) -> Identity:
    """``identity``, else the one a front end set (``acting``), else ``who`` (or the local
    user) asserted."""
    return identity or acting.get() or Identity.asserted(who or default_actor())

Clock = Callable[[], datetime]
T = TypeVar("T")


def utcnow() -> datetime:
    """Naive UTC: the store keeps UTC timestamps without a zone (see ``store/models.py``)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def canonical_document(doc: Partnership) -> str:
    """The stored form of a document: every field written out, keys sorted, no spaces."""
    return audit.canonical_json(doc.to_data())


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_document(version: DocumentVersion) -> Partnership:
    """A stored version as a ``Partnership`` (validated again: the store is not trusted blindly).
    A text that no longer matches the digest recorded when it was written is refused, so an
    export, a gate or a page never serves a document someone edited in the database."""
    if sha256_text(version.document) != version.sha256:
        raise StoreError(f"{version.partnership_id} version {version.version} no longer matches the digest "
                         "recorded when it was written: the store was changed outside isp; run `isp audit verify`")
    return validate(json.loads(version.document), f"{version.partnership_id} version {version.version}")


class Repository:
    """The lookups the commands and views share, over one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def partnership(self, partnership_id: str) -> PartnershipRow:
        row = self.session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        return row

    def version(self, partnership_id: str, number: int) -> DocumentVersion | None:
        return self.session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == number
            )
        ).one_or_none()

    def current_version(self, row: PartnershipRow) -> DocumentVersion:
        found = self.version(row.id, row.current_version)
        assert found is not None, f"{row.id} has no row for its current version {row.current_version}"
        return found

    def current_document(self, row: PartnershipRow) -> Partnership:
        return stored_document(self.current_version(row))

    def pending_requests(self, partnership_id: str) -> list[ApprovalRequest]:
        return list(self.session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.partnership_id == partnership_id,
                   ApprovalRequest.status == RequestStatus.PENDING)
            .order_by(ApprovalRequest.id)
        ))

    def pending_request(self, partnership_id: str) -> ApprovalRequest | None:
        """The open request (there is at most one: a second is refused)."""
        pending = self.pending_requests(partnership_id)
        return pending[0] if pending else None

    def latest_request(self, partnership_id: str) -> ApprovalRequest | None:
        return self.session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.partnership_id == partnership_id)
            .order_by(ApprovalRequest.id.desc()).limit(1)
        ).first()

    def latest_evaluation(
        self, partnership_id: str, *, gate: str | None = None, version: int | None = None
    ) -> GateEvaluation | None:
        """The newest evaluation (of ``gate``, on document ``version``, when named)."""
        query = select(GateEvaluation).where(GateEvaluation.partnership_id == partnership_id)
        if gate is not None:
            query = query.where(GateEvaluation.gate == gate)
        if version is not None:
            query = query.where(GateEvaluation.document_version == version)
        return self.session.scalars(query.order_by(GateEvaluation.id.desc()).limit(1)).first()

    def transition_for(self, request_id: int) -> StageTransition | None:
        """The move that applied approval ``request_id``, if it has been applied."""
        return self.session.scalars(
            select(StageTransition).where(StageTransition.approval_id == request_id)
        ).first()

    def unapplied_approval(self, row: PartnershipRow, target: str, gate: str | None) -> ApprovalRequest | None:
        """The approval that allows ``row``'s move to ``target`` now: approved, not applied, on the
        current version and (for a gated move) resting on a passing evaluation of that version."""
        query = (
            select(ApprovalRequest)
            .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
            .where(
                ApprovalRequest.partnership_id == row.id,
                ApprovalRequest.status == RequestStatus.APPROVED,
                ApprovalRequest.from_stage == row.stage,
                ApprovalRequest.to_stage == target,
                ApprovalRequest.document_version == row.current_version,
                StageTransition.id.is_(None),
            )
            .order_by(ApprovalRequest.id.desc())
        )
        if gate is None:
            query = query.where(ApprovalRequest.evaluation_id.is_(None))
        else:
            query = query.join(GateEvaluation, GateEvaluation.id == ApprovalRequest.evaluation_id).where(
                GateEvaluation.gate == gate,
                GateEvaluation.passed.is_(True),
                GateEvaluation.document_version == row.current_version,
            )
        return self.session.scalars(query.limit(1)).first()

    def open_or_unapplied(self, partnership_id: str) -> ApprovalRequest | None:
        """The request that still needs its workflow: pending, or approved and not applied."""
        return self.session.scalars(
            select(ApprovalRequest)
            .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
            .where(
                ApprovalRequest.partnership_id == partnership_id,
                (ApprovalRequest.status == RequestStatus.PENDING)
                | ((ApprovalRequest.status == RequestStatus.APPROVED) & StageTransition.id.is_(None)),
            )
            .order_by(ApprovalRequest.id.desc())
            .limit(1)
        ).first()


@dataclass
class UnitOfWork:
    """One transaction: its session, the audit key, who acts, and the one ``now`` it uses."""

    session: Session
    key: bytes
    actor: str
    now: datetime
    identity: Identity | None = None
    audited: list[int] = field(default_factory=list)

    @property
    def repo(self) -> Repository:
        return Repository(self.session)

    def audit(self, action: str, partnership_id: str | None, detail: dict[str, Any],
              identity: Identity | None = None) -> None:
        """Append one audit entry; ``identity`` (who acted and how that was established) goes
        into its detail as ``{"identity": {...}}``."""
        identity = identity or acting.get()
        if identity is not None:
            detail = {**detail, "identity": identity.as_audit()}
        entry = audit.append(
            self.session,
            self.key,
            at=self.now.isoformat() + "Z",
            actor=self.actor,
            action=action,
            partnership_id=partnership_id,
            detail=detail,
        )
        self.audited.append(entry.seq)

    def partnership(self, partnership_id: str) -> PartnershipRow:
        return self.repo.partnership(partnership_id)

    def touch(self, row: PartnershipRow) -> None:
        """Bump ``row_version``: the UPDATE carries ``WHERE row_version = <read>``."""
        row.updated_at = self.now
        self.session.flush()

    def current(self, row: PartnershipRow) -> DocumentVersion:
        return self.repo.current_version(row)

    def add_version(self, row: PartnershipRow, doc: Partnership, reason: str) -> DocumentVersion:
        text = canonical_document(doc)
        row.name, row.mission, row.stage, row.stage_entered = doc.name, doc.mission, doc.stage, doc.entered
        row.current_version = (row.current_version or 0) + 1
        row.updated_at = self.now
        self.session.flush()  # the partnership row first: the version refers to it
        version = DocumentVersion(
            partnership_id=doc.id,
            version=row.current_version,
            document=text,
            sha256=sha256_text(text),
            stage=doc.stage,
            reason=reason,
            created_by=self.actor,
            created_at=self.now,
        )
        self.session.add(version)
        self.session.flush()
        return version

    def notify(
        self, event: str, subject: str, partnership_id: str | None, recipients: list, payload: dict
    ) -> None:
        """Queue the event's outbox rows (``outbox.queue``): one per email recipient and channel,
        one per event for the webhook; the idempotency key makes a repeat a no-op."""
        outbox.queue(self.session, event=event, subject=subject, partnership_id=partnership_id,
                     recipients=recipients, payload=payload, now=self.now)

    def notify_many(self, messages: list[outbox.Message]) -> int:
        """Queue many events in one go (``outbox.queue_many``); return how many rows were new."""
        return outbox.queue_many(self.session, messages, now=self.now)


def default_actor() -> str:
    """Who is acting: ``ISP_USER``, else ``$USER@$(hostname)`` (cli.md, Configuration)."""
    from .settings import current

    return current().user


def run_command(
    store: Store,
    action: str,
    partnership_id: str,
    actor: str | None,
    clock: Clock,
    work: Callable[[UnitOfWork], T],
    *,
    identity: Identity | None = None,
) -> T:
    """Run ``work`` in one transaction; on a refusal, roll back and audit the refusal alone
    (with ``identity``, when given, so a refused decision names who tried)."""
    actor = actor or (identity.email if identity is not None else default_actor())
    key = audit.load_key()
    try:
        with store.sessions.begin() as session:
            return work(UnitOfWork(session, key, actor, clock(), identity))
    except (StaleDataError, IntegrityError) as exc:
        # a lost race: the row changed under us, or a concurrent insert took the same key
        refusal = StaleUpdate(f"{partnership_id} was changed by someone else meanwhile; nothing was applied, read it again")
        refusal.__cause__ = exc
    except RefusedOperation as exc:
        refusal = exc
    with store.sessions.begin() as session:
        if session.get(PartnershipRow, partnership_id) is not None:
            UnitOfWork(session, key, actor, clock(), identity).audit(
                f"{action}.refused", partnership_id,
                {"reason": str(refusal), "error": type(refusal).__name__}, identity=identity,
            )
    raise refusal


def read(store: Store, work: Callable[[Session], T]) -> T:
    """Run a read-only ``work(session)`` in one transaction (one consistent view)."""
    with store.sessions.begin() as session:
        return work(session)
