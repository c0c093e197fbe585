"""The service commands that decide and move; each is one transaction.

    decide            the mission director's (or a delegate's) approval or rejection
    move_stage        apply an approved move: a new document version in the new stage
    close             ``move_stage(..., to="closed")``
    decide_and_apply  a decision and, when approved, its move, in ONE transaction

``decide_and_apply`` is what front ends call: once it returns, the stage has moved, and
the workflow that waited for the decision finds its apply step done (``approvals``).
A crash can no longer leave an approval recorded but unapplied, except for decisions
recorded by ``decide`` alone (older versions, Prefect's form), which the workflow or the
scheduled sweep applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import lifecycle, outbox
from .document import validate
from .errors import RefusedOperation, StaleUpdate
from .identity import Identity
from .model import Partnership
from .settings import Settings, current
from .store import Store
from .commands import target_of
from .store.models import ApprovalRequest, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition
from .uow import Clock, UnitOfWork, established, run_command, utcnow
from .views import approvers
from .vocabulary import Refusal, RequestStatus, Stage


def _pending_or_refuse(tx: UnitOfWork, partnership_id: str, current_version: int) -> ApprovalRequest:
    request = tx.repo.pending_request(partnership_id)
    if request is not None:
        return request
    latest = tx.repo.latest_request(partnership_id)
    if latest is not None and latest.status == RequestStatus.STALE:
        raise StaleUpdate(
            f"{partnership_id}: approval request #{latest.id} is stale, the document changed since "
            f"(version {latest.document_version} → {current_version}); evaluate and request again"
        )
    raise RefusedOperation(f"{partnership_id} has no pending approval request", Refusal.NO_PENDING_REQUEST)


def _check_signed_in(partnership_id: str, identity: Identity, settings: Settings) -> None:
    if settings.require_signed_in and not identity.verified_for_decisions:
        raise RefusedOperation(
            f"{identity.email} may not decide for {partnership_id} as {identity.method}: "
            "ISP_REQUIRE_SIGNED_IN=1 accepts decisions only from a person signed in to the service",
            Refusal.NOT_SIGNED_IN,
        )


def _decision(tx: UnitOfWork, partnership_id: str, identity: Identity, approve: bool, note: str | None,
              settings: Settings, request_id: int | None = None) -> tuple[PartnershipRow, Partnership, ApprovalRequest]:
    """Check the decision and set it on the pending request (``request_id``, when named: a
    caller who read one request never decides another opened meanwhile); refusals raise.
    Returns the partnership, its current document and the request, nothing queued or audited yet."""
    row = tx.partnership(partnership_id)
    _check_signed_in(partnership_id, identity, settings)
    request = _pending_or_refuse(tx, partnership_id, row.current_version)
    if request_id is not None and request.id != request_id:
        raise RefusedOperation(f"approval request #{request_id} is no longer pending (#{request.id} is)",
                               Refusal.NO_PENDING_REQUEST)
    doc = tx.repo.current_document(row)
    by = identity.email
    if not any(identity.matches(email) for email in approvers(doc)):
        raise RefusedOperation(f"{by} may not decide for {partnership_id}: only its mission director or a delegate",
                               Refusal.NOT_AN_APPROVER)
    if identity.matches(request.requested_by):
        raise RefusedOperation(f"{by} requested this move and may not also decide it", Refusal.REQUESTER_DECIDES)
    evaluated = request.document_version
    if request.evaluation_id is not None:
        evaluated = tx.session.get(GateEvaluation, request.evaluation_id).document_version
    if row.current_version != request.document_version or evaluated != row.current_version:
        raise StaleUpdate(
            f"{partnership_id} changed since the request (version {request.document_version} → "
            f"{row.current_version}): evaluate and request again"
        )
    request.status = (RequestStatus.APPROVED if approve else RequestStatus.REJECTED).value
    request.decided_by, request.decided_at, request.note = by, tx.now, note
    return row, doc, request


def _decision_message(tx: UnitOfWork, doc: Partnership, request: ApprovalRequest) -> outbox.Message:
    payload = {"partnership": request.partnership_id, "request": request.id, "decision": request.status,
               "by": request.decided_by, "note": request.note, "from": request.from_stage, "to": request.to_stage,
               "requested_by": request.requested_by, "decided_at": tx.now.isoformat(),
               "partnership_name": doc.name}  # named here: the outbox need not look it up
    event = f"approval-{request.status}"
    recipients = outbox.for_event(event, doc, requester=request.requested_by)
    return outbox.Message(event, f"request-{request.id}", request.partnership_id, recipients, payload)


def _audit_decision(tx: UnitOfWork, request: ApprovalRequest, identity: Identity) -> None:
    tx.audit("approve" if request.status == RequestStatus.APPROVED else "reject", request.partnership_id,
             {"request": request.id, "to": request.to_stage, "note": request.note}, identity=identity)


def decide_within(tx: UnitOfWork, partnership_id: str, identity: Identity, approve: bool, note: str | None,
                  settings: Settings) -> ApprovalRequest:
    """Record the decision inside ``tx`` (refusals raise; ``run_command`` audits them)."""
    row, doc, request = _decision(tx, partnership_id, identity, approve, note, settings)
    tx.touch(row)
    tx.notify_many([_decision_message(tx, doc, request)])
    _audit_decision(tx, request, identity)
    return request


def _identity(identity: Identity | None, who: str | None) -> Identity:
    return established(identity, who)


def decide(
    store: Store,
    partnership_id: str,
    *,
    by: str | None = None,
    approve: bool,
    note: str | None = None,
    clock: Clock = utcnow,
    identity: Identity | None = None,
    settings: Settings | None = None,
) -> int:
    """Record the decision on the pending request. Only the mission director or a delegate
    (email, case-insensitive), never the requester, and only on an unchanged document.
    ``identity`` (default: ``by``, asserted) is who decides; returns the request's id."""
    identity = _identity(identity, by)
    settings = settings or current()
    action = "approve" if approve else "reject"
    return run_command(store, action, partnership_id, identity.email, clock,
                       lambda tx: decide_within(tx, partnership_id, identity, approve, note, settings).id,
                       identity=identity)


@dataclass(frozen=True)
class _Move:
    """An applied move, before its message is queued and its audit entry written."""

    approval: ApprovalRequest
    from_stage: str
    to_stage: str
    version: DocumentVersion
    doc: Partnership


def _move(tx: UnitOfWork, row: PartnershipRow, current: Partnership, to: str | None,
          approval: ApprovalRequest | None = None) -> _Move:
    """Apply the approved move of ``row`` (whose current document is ``current``), by
    ``approval`` when the caller has just approved it on this version, else by the
    unapplied approval the store holds."""
    target = target_of(row, to)
    gate = lifecycle.gate_for_move(row.stage, target)
    approval = approval or tx.repo.unapplied_approval(row, target, gate)
    if approval is None:
        what = "an approval" if gate is None else f"a passing {gate} gate evaluation and its approval"
        raise RefusedOperation(
            f"{row.id} cannot move {row.stage} → {target}: it needs {what} on version {row.current_version}",
            Refusal.NOT_APPROVED,
        )
    data = current.to_data()
    data["stage"], data["stage_entered"] = target, tx.now.date().isoformat()
    doc = validate(data, row.id)
    from_stage, from_version = row.stage, row.current_version
    version = tx.add_version(row, doc, "move")  # bumps row_version: the partnership is touched
    tx.session.add(
        StageTransition(
            partnership_id=row.id, approval_id=approval.id, from_stage=from_stage, to_stage=target,
            from_version=from_version, to_version=version.version, applied_by=tx.actor, applied_at=tx.now,
        )
    )
    return _Move(approval, from_stage, target, version, doc)


def _move_message(move: _Move) -> outbox.Message:
    doc, number = move.doc, move.version.version
    payload = {"partnership": doc.id, "from": move.from_stage, "to": move.to_stage, "version": number,
               "stage_entered": doc.stage_entered.isoformat(), "partnership_name": doc.name,
               "leaders": [{"name": p.name, "email": p.email} for p in doc.leaders]}  # whom the partners ask
    return outbox.Message("stage-moved", f"{doc.id}-v{number}", doc.id, outbox.for_event("stage-moved", doc), payload)


def _audit_move(tx: UnitOfWork, move: _Move, identity: Identity | None) -> None:
    tx.audit("move", move.doc.id,
             {"from": move.from_stage, "to": move.to_stage, "request": move.approval.id,
              "version": move.version.version, "sha256": move.version.sha256},
             identity=identity)


def move_within(tx: UnitOfWork, partnership_id: str, to: str | None, identity: Identity | None) -> int:
    """Apply the approved move inside ``tx``; returns the new document version."""
    row = tx.partnership(partnership_id)
    move = _move(tx, row, tx.repo.current_document(row), to)
    tx.session.flush()
    tx.notify_many([_move_message(move)])
    _audit_move(tx, move, identity)
    return move.version.version


def move_stage(
    store: Store,
    partnership_id: str,
    *,
    to: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
    identity: Identity | None = None,
) -> int:
    """Apply an approved move; returns the new document version, whose ``stage_entered`` is the
    UTC date of applying it."""
    identity = _identity(identity, actor)
    return run_command(store, "move", partnership_id, actor or identity.email, clock,
                       lambda tx: move_within(tx, partnership_id, to, identity), identity=identity)


def close(store: Store, partnership_id: str, *, actor: str | None = None, clock: Clock = utcnow) -> int:
    return move_stage(store, partnership_id, to=Stage.CLOSED.value, actor=actor, clock=clock)


@dataclass(frozen=True)
class Decided:
    """A decision recorded by ``decide_and_apply``: ``version`` is the document version the
    approved move created (``None`` for a rejection); ``request`` the request as decided."""

    partnership_id: str
    request_id: int
    status: str  # approved | rejected
    from_stage: str
    to_stage: str
    version: int | None
    request: ApprovalRequest | None = field(default=None, compare=False, repr=False)

    @property
    def applied(self) -> bool:
        return self.version is not None


def decide_and_apply(
    store: Store,
    partnership_id: str,
    *,
    identity: Identity,
    approve: bool,
    note: str | None = None,
    clock: Clock = utcnow,
    settings: Settings | None = None,
    request_id: int | None = None,
) -> Decided:
    """Record the decision and, when approved, move the stage, in one transaction: both or
    neither, on the pending request (``request_id``, when named). A refusal is audited as
    ``approve.refused``/``reject.refused`` alone.

    Row locks are taken in one order (the request, then the partnership: a second decision
    on the same request waits, then finds the partnership changed and is refused), the
    messages queued together, and the audit chain, which serialises every writer on
    PostgreSQL, appended last, so that its lock is held only until the commit."""
    settings = settings or current()

    def work(tx: UnitOfWork) -> Decided:
        row, doc, request = _decision(tx, partnership_id, identity, approve, note, settings, request_id)
        tx.session.flush()  # the request's row first
        move = _move(tx, row, doc, request.to_stage, request) if approve else None
        if move is None:
            tx.touch(row)
        tx.notify_many([_decision_message(tx, doc, request)] + ([_move_message(move)] if move else []))
        _audit_decision(tx, request, identity)
        if move is not None:
            _audit_move(tx, move, identity)
        version = move.version.version if move else None
        return Decided(partnership_id, request.id, request.status, request.from_stage, request.to_stage, version,
                       request)

    return run_command(store, "approve" if approve else "reject", partnership_id, identity.email, clock, work,
                       identity=identity)
