"""The use cases of the store. Each function is one transaction: all of it happens or none.

    import_document   bring a document in (a new partnership, or a new version of a known one)
    export_document   a stored version, as a ``Partnership``
    evaluate_gate     run a gate through an evaluator you pass, and record its verdict
    record_evaluation record a verdict (the JSON of ``isp check --format json``)
    request_approval  ask to leave the current stage (after a passing evaluation)
    decide            the mission director's (or a delegate's) approval or rejection
    move_stage        apply an approved move: a new document version in the new stage
    close             ``move_stage(..., to="closed")``

Refusals raise ``RefusedOperation`` (exit 1). A refusal about a known partnership leaves the
store as it was except for one audit entry recording it, written after the rollback. An
unknown id (``UnknownPartnership``) or an invalid document writes nothing at all.

Every change bumps the partnership's ``row_version``; a concurrent change to the same
partnership makes the later commit fail with ``StaleUpdate``, never both succeed.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import lifecycle, outbox
from .document import validate
from .errors import RefusedOperation, StaleUpdate, UnknownPartnership, UsageError
from .model import Partnership
from .store import Store, audit
from .store.models import (
    ApprovalRequest,
    DocumentVersion,
    GateEvaluation,
    Notification,
    PartnershipRow,
    StageTransition,
)

Clock = Callable[[], datetime]
Evaluator = Callable[[Partnership, str, date], dict[str, Any]]


# Who acted, as a front end established it (``Identity.as_audit()``): every audit entry written
# while it is set records it under ``identity``. Interim, until the services take an
# ``identity`` parameter; set it with ``access.acting``.
acting: ContextVar[dict[str, Any] | None] = ContextVar("acting", default=None)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def default_actor() -> str:
    """Who is acting: ``ISP_USER``, else ``$USER@$(hostname)`` (cli.md, Configuration)."""
    return os.environ.get("ISP_USER") or f"{getpass.getuser()}@{socket.gethostname()}"


def canonical_document(doc: Partnership) -> str:
    """The stored form of a document: every field written out, keys sorted, no spaces."""
    return audit.canonical_json(doc.to_data())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ transactions

@dataclass
class _Tx:
    session: Session
    key: bytes
    actor: str
    now: datetime
    audited: list[int] = field(default_factory=list)

    def audit(self, action: str, partnership_id: str | None, detail: dict[str, Any]) -> None:
        if acting.get() is not None:
            detail = {**detail, "identity": acting.get()}
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
        row = self.session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        return row

    def touch(self, row: PartnershipRow) -> None:
        """Bump ``row_version``: the UPDATE carries ``WHERE row_version = <read>``."""
        row.updated_at = self.now
        self.session.flush()

    def current(self, row: PartnershipRow) -> DocumentVersion:
        return self.session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.partnership_id == row.id, DocumentVersion.version == row.current_version
            )
        ).one()

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
            sha256=_sha256(text),
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


def _run(store: Store, action: str, partnership_id: str, actor: str | None, clock: Clock, work: Callable[[_Tx], Any]):
    """Run ``work`` in one transaction; on a refusal, roll back and audit the refusal alone."""
    actor = actor or default_actor()
    key = audit.load_key()
    try:
        with store.sessions.begin() as session:
            return work(_Tx(session, key, actor, clock()))
    except (StaleDataError, IntegrityError) as exc:
        # a lost race: the row changed under us, or a concurrent insert took the same key
        refusal = StaleUpdate(f"{partnership_id} was changed by someone else meanwhile; nothing was applied, read it again")
        refusal.__cause__ = exc
    except RefusedOperation as exc:
        refusal = exc
    with store.sessions.begin() as session:
        if session.get(PartnershipRow, partnership_id) is not None:
            _Tx(session, key, actor, clock()).audit(
                f"{action}.refused", partnership_id, {"reason": str(refusal), "error": type(refusal).__name__}
            )
    raise refusal


def _read(store: Store, work: Callable[[Session], Any]):
    with store.sessions.begin() as session:
        return work(session)


def _document(version: DocumentVersion) -> Partnership:
    return validate(json.loads(version.document), f"{version.partnership_id} version {version.version}")


# ------------------------------------------------------------------ import / export

@dataclass(frozen=True)
class ImportResult:
    partnership_id: str
    version: int
    status: str  # created | updated | unchanged
    stale_requests: tuple[int, ...] = ()


def import_document(store: Store, doc: Partnership, *, actor: str | None = None, clock: Clock = utcnow) -> ImportResult:
    """A new partnership (any stage), or a new version of a known one that keeps its stage."""
    text = canonical_document(doc)
    sha = _sha256(text)

    def work(tx: _Tx) -> ImportResult:
        row = tx.session.get(PartnershipRow, doc.id)
        if row is None:
            row = PartnershipRow(id=doc.id, current_version=0, created_at=tx.now, updated_at=tx.now)
            tx.session.add(row)
            version = tx.add_version(row, doc, "import")
            tx.session.flush()
            tx.audit("import", doc.id, {"version": 1, "sha256": sha, "stage": doc.stage, "created": True})
            return ImportResult(doc.id, 1, "created")
        current = tx.current(row)
        if current.sha256 == sha:
            return ImportResult(doc.id, current.version, "unchanged")
        old = _document(current)
        if (old.stage, old.entered) != (doc.stage, doc.entered):
            raise RefusedOperation(
                f"{doc.id}: an import may not change stage or stage_entered "
                f"(stored: {old.stage} since {old.entered}; file: {doc.stage} since {doc.entered}); "
                "stages move only through gates (`isp advance`)"
            )
        version = tx.add_version(row, doc, "import")
        pending = tx.session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.partnership_id == doc.id, ApprovalRequest.status == "pending")
        ).all()
        for request in pending:
            request.status = "stale"
        tx.touch(row)
        stale = tuple(r.id for r in pending)
        tx.audit("import", doc.id, {"version": version.version, "sha256": sha, "stale_requests": list(stale)})
        return ImportResult(doc.id, version.version, "updated", stale)

    return _run(store, "import", doc.id, actor, clock, work)


def export_document(store: Store, partnership_id: str, version: int | None = None) -> Partnership:
    def work(session: Session) -> Partnership:
        row = session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        wanted = row.current_version if version is None else version
        stored = session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == wanted
            )
        ).one_or_none()
        if stored is None:
            raise UsageError(f"{partnership_id} has no version {wanted} (versions 1 to {row.current_version})")
        return _document(stored)

    return _read(store, work)


# ------------------------------------------------------------------ gates

_VERDICT_KEYS = {"partnership", "gate", "as_of", "passed", "rules", "findings"}


def _check_verdict(verdict: dict[str, Any]) -> date:
    missing = _VERDICT_KEYS - set(verdict)
    if missing:
        raise UsageError(f"a verdict needs {', '.join(sorted(missing))}")
    if verdict["gate"] not in lifecycle.GATES:
        raise UsageError(f"unknown gate {verdict['gate']!r}: one of {', '.join(lifecycle.GATES)}")
    if not isinstance(verdict["passed"], bool) or not isinstance(verdict["findings"], list):
        raise UsageError("a verdict's passed must be true/false and its findings a list")
    rules = verdict["rules"]
    if not isinstance(rules, dict) or not {"version", "digest"} <= set(rules):
        raise UsageError("a verdict's rules must name their version and digest")
    try:
        return date.fromisoformat(verdict["as_of"])
    except (TypeError, ValueError):
        raise UsageError(f"a verdict's as_of must be a date YYYY-MM-DD, not {verdict['as_of']!r}") from None


def record_evaluation(
    store: Store,
    verdict: dict[str, Any],
    *,
    document_version: int | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> int:
    """Record a gate verdict against the current document version (refused as stale if the
    verdict was computed on ``document_version`` and the document has changed since)."""
    as_of = _check_verdict(verdict)
    partnership_id = verdict["partnership"]

    def work(tx: _Tx) -> int:
        row = tx.partnership(partnership_id)
        if document_version is not None and document_version != row.current_version:
            raise StaleUpdate(
                f"{partnership_id} changed (version {document_version} → {row.current_version}) while its "
                f"{verdict['gate']} gate was evaluated; evaluate again"
            )
        evaluation = GateEvaluation(
            partnership_id=partnership_id,
            document_version=row.current_version,
            gate=verdict["gate"],
            as_of=as_of,
            passed=verdict["passed"],
            findings=verdict["findings"],
            rules_version=str(verdict["rules"]["version"]),
            rules_digest=str(verdict["rules"]["digest"]),
            created_by=tx.actor,
            created_at=tx.now,
        )
        tx.session.add(evaluation)
        tx.touch(row)
        if not evaluation.passed:
            leaders = outbox.for_event("gate-blocked", _document(tx.current(row)))
            tx.notify("gate-blocked", f"evaluation-{evaluation.id}", partnership_id, leaders, verdict)
        tx.audit(
            "evaluate",
            partnership_id,
            {
                "evaluation": evaluation.id,
                "gate": evaluation.gate,
                "as_of": as_of.isoformat(),
                "passed": evaluation.passed,
                "version": row.current_version,
                "rules_digest": evaluation.rules_digest,
            },
        )
        return evaluation.id

    return _run(store, "evaluate", partnership_id, actor, clock, work)


def evaluate_gate(
    store: Store,
    partnership_id: str,
    evaluator: Evaluator,
    *,
    as_of: date,
    gate: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> tuple[int, dict[str, Any]]:
    """Evaluate the current document with ``evaluator(doc, gate, as_of) -> verdict dict`` and record it."""

    def read(session: Session) -> tuple[Partnership, int]:
        row = session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        version = session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == row.current_version
            )
        ).one()
        return _document(version), row.current_version

    doc, version = _read(store, read)
    gate = gate or lifecycle.gate_of(doc.stage)
    if gate is None:
        raise UsageError(f"{partnership_id} is closed: it has no gate to evaluate (name one)")
    verdict = evaluator(doc, gate, as_of)
    if verdict.get("partnership") != partnership_id or verdict.get("gate") != gate:
        raise UsageError(f"the evaluator answered for {verdict.get('partnership')}/{verdict.get('gate')}, not {partnership_id}/{gate}")
    evaluation_id = record_evaluation(store, verdict, document_version=version, actor=actor, clock=clock)
    return evaluation_id, verdict


# ------------------------------------------------------------------ approvals and moves

def _target(row: PartnershipRow, to: str | None) -> str:
    target = to or lifecycle.next_stage(row.stage)
    if target is None:
        raise RefusedOperation(f"{row.id} is {row.stage}: there is no stage to move to")
    lifecycle.check_move(row.stage, target)
    return target


def _pending(session: Session, partnership_id: str) -> ApprovalRequest | None:
    return session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.partnership_id == partnership_id, ApprovalRequest.status == "pending")
        .order_by(ApprovalRequest.id)
        .limit(1)
    ).first()


def _approvers(doc: Partnership) -> list[str]:
    people = ([doc.mission_director] if doc.mission_director else []) + list(doc.delegates)
    return [person.email for person in people]


def request_approval(
    store: Store,
    partnership_id: str,
    *,
    requested_by: str,
    to: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> int:
    """Ask the director to approve leaving the current stage; needs a passing evaluation of the
    current stage's gate on the current document version (none for ``review → closed``)."""

    def work(tx: _Tx) -> int:
        row = tx.partnership(partnership_id)
        target = _target(row, to)
        doc = _document(tx.current(row))
        if doc.mission_director is None:
            raise RefusedOperation(f"{partnership_id} has no mission_director: name one before it can be advanced")
        open_request = _pending(tx.session, partnership_id)
        if open_request is not None:
            raise RefusedOperation(
                f"{partnership_id} already has an open approval request (#{open_request.id}, "
                f"{open_request.from_stage} → {open_request.to_stage})"
            )
        evaluation = None
        gate = lifecycle.gate_for_move(row.stage, target)
        if gate is not None:
            evaluation = tx.session.scalars(
                select(GateEvaluation)
                .where(
                    GateEvaluation.partnership_id == partnership_id,
                    GateEvaluation.document_version == row.current_version,
                    GateEvaluation.gate == gate,
                )
                .order_by(GateEvaluation.id.desc())
                .limit(1)
            ).first()
            if evaluation is None:
                raise RefusedOperation(
                    f"{partnership_id}: the {gate} gate has not been evaluated on version {row.current_version}"
                )
            if not evaluation.passed:
                raise RefusedOperation(f"{partnership_id}: the {gate} gate did not pass (evaluation #{evaluation.id})")
        request = ApprovalRequest(
            partnership_id=partnership_id,
            evaluation_id=evaluation.id if evaluation else None,
            document_version=row.current_version,
            from_stage=row.stage,
            to_stage=target,
            requested_by=requested_by,
            requested_at=tx.now,
            status="pending",
        )
        tx.session.add(request)
        tx.touch(row)
        payload = {"partnership": partnership_id, "request": request.id, "from": row.stage, "to": target,
                   "requested_by": requested_by, "requested_at": tx.now.isoformat(), "gate": gate,
                   "as_of": evaluation.as_of.isoformat() if evaluation else None,
                   "findings": evaluation.findings if evaluation else [],
                   "rules_digest": evaluation.rules_digest if evaluation else None}
        tx.notify("approval-requested", f"request-{request.id}", partnership_id,
                  outbox.for_event("approval-requested", doc), payload)
        tx.audit(
            "request-approval",
            partnership_id,
            {"request": request.id, "evaluation": request.evaluation_id, "from": row.stage, "to": target,
             "requested_by": requested_by, "version": row.current_version},
        )
        return request.id

    return _run(store, "request-approval", partnership_id, actor or requested_by, clock, work)


def decide(
    store: Store,
    partnership_id: str,
    *,
    by: str,
    approve: bool,
    note: str | None = None,
    clock: Clock = utcnow,
) -> int:
    """Record the decision on the pending request. Only the mission director or a delegate
    (email, case-insensitive), never the requester, and only on an unchanged document."""

    def work(tx: _Tx) -> int:
        row = tx.partnership(partnership_id)
        request = _pending(tx.session, partnership_id)
        if request is None:
            latest = tx.session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.partnership_id == partnership_id)
                .order_by(ApprovalRequest.id.desc()).limit(1)
            ).first()
            if latest is not None and latest.status == "stale":
                raise StaleUpdate(
                    f"{partnership_id}: approval request #{latest.id} is stale, the document changed since "
                    f"(version {latest.document_version} → {row.current_version}); evaluate and request again"
                )
            raise RefusedOperation(f"{partnership_id} has no pending approval request")
        doc = _document(tx.current(row))
        who = by.casefold()
        if who not in {email.casefold() for email in _approvers(doc)}:
            raise RefusedOperation(f"{by} may not decide for {partnership_id}: only its mission director or a delegate")
        if who == request.requested_by.casefold():
            raise RefusedOperation(f"{by} requested this move and may not also decide it")
        evaluated = request.document_version
        if request.evaluation_id is not None:
            evaluated = tx.session.get(GateEvaluation, request.evaluation_id).document_version
        if row.current_version != request.document_version or evaluated != row.current_version:
            raise StaleUpdate(
                f"{partnership_id} changed since the request (version {request.document_version} → "
                f"{row.current_version}): evaluate and request again"
            )
        request.status = "approved" if approve else "rejected"
        request.decided_by, request.decided_at, request.note = by, tx.now, note
        tx.touch(row)
        payload = {"partnership": partnership_id, "request": request.id, "decision": request.status,
                   "by": by, "note": note, "from": request.from_stage, "to": request.to_stage,
                   "requested_by": request.requested_by, "decided_at": tx.now.isoformat()}
        event = f"approval-{request.status}"
        recipients = outbox.for_event(event, doc, requester=request.requested_by)
        tx.notify(event, f"request-{request.id}", partnership_id, recipients, payload)
        tx.audit("approve" if approve else "reject", partnership_id,
                 {"request": request.id, "to": request.to_stage, "note": note})
        return request.id

    return _run(store, "approve" if approve else "reject", partnership_id, by, clock, work)


def move_stage(
    store: Store,
    partnership_id: str,
    *,
    to: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> int:
    """Apply an approved move; returns the new document version, whose ``stage_entered`` is the
    UTC date of applying it."""

    def work(tx: _Tx) -> int:
        row = tx.partnership(partnership_id)
        target = _target(row, to)
        gate = lifecycle.gate_for_move(row.stage, target)
        query = (
            select(ApprovalRequest)
            .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
            .where(
                ApprovalRequest.partnership_id == partnership_id,
                ApprovalRequest.status == "approved",
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
        approval = tx.session.scalars(query.limit(1)).first()
        if approval is None:
            what = "an approval" if gate is None else f"a passing {gate} gate evaluation and its approval"
            raise RefusedOperation(
                f"{partnership_id} cannot move {row.stage} → {target}: it needs {what} on version {row.current_version}"
            )
        data = _document(tx.current(row)).to_data()
        data["stage"], data["stage_entered"] = target, tx.now.date().isoformat()
        doc = validate(data, partnership_id)
        from_stage, from_version = row.stage, row.current_version
        version = tx.add_version(row, doc, "move")
        tx.touch(row)
        tx.session.add(
            StageTransition(
                partnership_id=partnership_id, approval_id=approval.id, from_stage=from_stage, to_stage=target,
                from_version=from_version, to_version=version.version, applied_by=tx.actor, applied_at=tx.now,
            )
        )
        payload = {"partnership": partnership_id, "from": from_stage, "to": target, "version": version.version,
                   "stage_entered": doc.stage_entered.isoformat()}
        recipients = outbox.for_event("stage-moved", doc)
        tx.notify("stage-moved", f"{partnership_id}-v{version.version}", partnership_id, recipients, payload)
        tx.audit("move", partnership_id,
                 {"from": from_stage, "to": target, "request": approval.id, "version": version.version})
        return version.version

    return _run(store, "move", partnership_id, actor, clock, work)


def close(store: Store, partnership_id: str, *, actor: str | None = None, clock: Clock = utcnow) -> int:
    return move_stage(store, partnership_id, to="closed", actor=actor, clock=clock)


# ------------------------------------------------------------------ reading

def list_partnerships(
    store: Store, *, stage: str | None = None, mission: str | None = None, today: date | None = None
) -> list[dict[str, Any]]:
    """One summary per partnership, ordered by id: stage, days in it, pending approvals, last verdict."""
    today = today or utcnow().date()

    def work(session: Session) -> list[dict[str, Any]]:
        pending = (
            select(ApprovalRequest.partnership_id, func.count().label("n"))
            .where(ApprovalRequest.status == "pending")
            .group_by(ApprovalRequest.partnership_id)
            .subquery()
        )
        latest = (
            select(GateEvaluation.partnership_id, func.max(GateEvaluation.id).label("id"))
            .group_by(GateEvaluation.partnership_id)
            .subquery()
        )
        query = (
            select(PartnershipRow, pending.c.n, GateEvaluation)
            .outerjoin(pending, pending.c.partnership_id == PartnershipRow.id)
            .outerjoin(latest, latest.c.partnership_id == PartnershipRow.id)
            .outerjoin(GateEvaluation, GateEvaluation.id == latest.c.id)
            .order_by(PartnershipRow.id)
        )
        if stage:
            query = query.where(PartnershipRow.stage == stage)
        if mission:
            query = query.where(PartnershipRow.mission == mission)
        return [_summary(row, n or 0, evaluation, today) for row, n, evaluation in session.execute(query)]

    return _read(store, work)


def _summary(row: PartnershipRow, pending: int, evaluation: GateEvaluation | None, today: date) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "mission": row.mission,
        "stage": row.stage,
        "stage_entered": row.stage_entered.isoformat(),
        "days_in_stage": (today - row.stage_entered).days,
        "version": row.current_version,
        "pending_approvals": pending,
        "last_verdict": None if evaluation is None else {
            "gate": evaluation.gate,
            "as_of": evaluation.as_of.isoformat(),
            "passed": evaluation.passed,
            "blocking": sum(1 for f in evaluation.findings if f.get("severity") == "blocking"),
        },
    }


def show(store: Store, partnership_id: str, *, today: date | None = None) -> dict[str, Any]:
    """The summary plus open approval requests and the latest findings."""
    today = today or utcnow().date()

    def work(session: Session) -> dict[str, Any]:
        row = session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        evaluation = session.scalars(
            select(GateEvaluation).where(GateEvaluation.partnership_id == partnership_id)
            .order_by(GateEvaluation.id.desc()).limit(1)
        ).first()
        requests = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.partnership_id == partnership_id,
                                          ApprovalRequest.status == "pending").order_by(ApprovalRequest.id)
        ).all()
        summary = _summary(row, len(requests), evaluation, today)
        summary["open_approvals"] = [
            {"request": r.id, "from": r.from_stage, "to": r.to_stage, "requested_by": r.requested_by,
             "requested_at": r.requested_at.isoformat(), "version": r.document_version}
            for r in requests
        ]
        summary["findings"] = evaluation.findings if evaluation else []
        return summary

    return _read(store, work)


def history(store: Store, partnership_id: str) -> list[dict[str, Any]]:
    """What happened to a partnership, oldest first: versions, evaluations, requests, decisions, moves."""

    def work(session: Session) -> list[dict[str, Any]]:
        if session.get(PartnershipRow, partnership_id) is None:
            raise UnknownPartnership(partnership_id)

        def rows(model):
            return session.scalars(select(model).where(model.partnership_id == partnership_id)).all()

        events: list[tuple[datetime, int, dict[str, Any]]] = []
        for v in rows(DocumentVersion):
            events.append((v.created_at, 0, {"at": v.created_at, "event": f"version {v.version} ({v.reason})",
                                             "by": v.created_by, "detail": f"stage {v.stage}, sha256 {v.sha256[:12]}"}))
        for e in rows(GateEvaluation):
            verdict = "passed" if e.passed else "blocked"
            events.append((e.created_at, 1, {"at": e.created_at, "event": f"{e.gate} gate {verdict}",
                                             "by": e.created_by, "detail": f"as of {e.as_of}, version {e.document_version}, "
                                                                           f"{len(e.findings)} findings"}))
        for r in rows(ApprovalRequest):
            events.append((r.requested_at, 2, {"at": r.requested_at, "event": f"approval requested #{r.id}",
                                               "by": r.requested_by, "detail": f"{r.from_stage} → {r.to_stage}"}))
            if r.decided_at is not None:
                events.append((r.decided_at, 3, {"at": r.decided_at, "event": f"request #{r.id} {r.status}",
                                                 "by": r.decided_by, "detail": r.note or ""}))
        for t in rows(StageTransition):
            events.append((t.applied_at, 4, {"at": t.applied_at, "event": f"moved {t.from_stage} → {t.to_stage}",
                                             "by": t.applied_by, "detail": f"version {t.to_version}"}))
        events.sort(key=lambda item: (item[0], item[1]))
        return [{**event, "at": event["at"].isoformat()} for _, _, event in events]

    return _read(store, work)


def verify_audit(store: Store) -> audit.AuditReport:
    key = audit.load_key()
    return _read(store, lambda session: audit.verify(session, key))
