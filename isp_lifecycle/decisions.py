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

from dataclasses import dataclass

from . import lifecycle, outbox
from .document import validate
from .errors import RefusedOperation, StaleUpdate
from .identity import Identity
from .model import Partnership
from .settings import Settings, current
from .store import Store
from .commands import target_of
from .store.models import ApprovalRequest, GateEvaluation, StageTransition
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


def decide_within(tx: UnitOfWork, partnership_id: str, identity: Identity, approve: bool, note: str | None,
                  settings: Settings) -> ApprovalRequest:
    """Record the decision inside ``tx`` (refusals raise; ``run_command`` audits them)."""
    row = tx.partnership(partnership_id)
    _check_signed_in(partnership_id, identity, settings)
    request = _pending_or_refuse(tx, partnership_id, row.current_version)
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
    tx.touch(row)
    payload = {"partnership": partnership_id, "request": request.id, "decision": request.status,
               "by": by, "note": note, "from": request.from_stage, "to": request.to_stage,
               "requested_by": request.requested_by, "decided_at": tx.now.isoformat()}
    event = f"approval-{request.status}"
    recipients = outbox.for_event(event, doc, requester=request.requested_by)
    tx.notify(event, f"request-{request.id}", partnership_id, recipients, payload)
    tx.audit("approve" if approve else "reject", partnership_id,
             {"request": request.id, "to": request.to_stage, "note": note}, identity=identity)
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


def move_within(tx: UnitOfWork, partnership_id: str, to: str | None, identity: Identity | None) -> int:
    """Apply the approved move inside ``tx``; returns the new document version."""
    row = tx.partnership(partnership_id)
    target = target_of(row, to)
    gate = lifecycle.gate_for_move(row.stage, target)
    approval = tx.repo.unapplied_approval(row, target, gate)
    if approval is None:
        what = "an approval" if gate is None else f"a passing {gate} gate evaluation and its approval"
        raise RefusedOperation(
            f"{partnership_id} cannot move {row.stage} → {target}: it needs {what} on version {row.current_version}",
            Refusal.NOT_APPROVED,
        )
    data = tx.repo.current_document(row).to_data()
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
               "stage_entered": doc.stage_entered.isoformat(), "partnership_name": doc.name,
               "leaders": [{"name": p.name, "email": p.email} for p in doc.leaders]}  # whom the partners ask
    recipients = outbox.for_event("stage-moved", doc)
    tx.notify("stage-moved", f"{partnership_id}-v{version.version}", partnership_id, recipients, payload)
    tx.audit("move", partnership_id,
             {"from": from_stage, "to": target, "request": approval.id, "version": version.version,
              "sha256": version.sha256},
             identity=identity)
    return version.version


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
    approved move created (``None`` for a rejection)."""

    partnership_id: str
    request_id: int
    status: str  # approved | rejected
    from_stage: str
    to_stage: str
    version: int | None

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
) -> Decided:
    """Record the decision and, when approved, move the stage, in one transaction: both or
    neither. A refusal is audited as ``approve.refused``/``reject.refused`` alone."""
    settings = settings or current()

    def work(tx: UnitOfWork) -> Decided:
        request = decide_within(tx, partnership_id, identity, approve, note, settings)
        version = move_within(tx, partnership_id, request.to_stage, identity) if approve else None
        return Decided(partnership_id, request.id, request.status, request.from_stage, request.to_stage, version)

    return run_command(store, "approve" if approve else "reject", partnership_id, identity.email, clock, work,
                       identity=identity)
