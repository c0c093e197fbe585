"""Gate approval as use cases the flows call: open a request, take a decision, apply it,
remind and escalate. No Prefect here: every function is one or two store transactions and
safe to call again (a replayed flow step finds its work done and does nothing twice).

Front ends decide with ``decide_and_apply`` (``decisions``): the decision and its move in
one transaction, so the workflow's apply step then finds the move done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from . import commands, decisions, lifecycle, outbox
from .decisions import Decided, decide_and_apply
from .errors import RefusedOperation, UsageError
from .identity import Identity
from .store import Store
from .store.models import ApprovalRequest, StageTransition
from .uow import Repository, established, read, run_command, stored_document, utcnow
from .views import PendingRequest, pending_requests
from .vocabulary import RequestStatus

__all__ = ["Decided", "DecisionOutcome", "Opened", "apply_decided", "apply_decision", "decide_and_apply",
           "open_or_unapplied", "open_request", "pending", "record_if_blocked", "remind_and_escalate", "request", "settled", "take_decision"]


@dataclass(frozen=True)
class Opened:
    """What ``open_request`` did: either the gate blocked, or a request waits for a decision."""

    partnership_id: str
    gate: str | None
    request_id: int | None
    verdict: dict[str, Any] | None

    @property
    def blocked(self) -> bool:
        return self.request_id is None

    def to_json(self) -> dict[str, Any]:
        return {"partnership": self.partnership_id, "gate": self.gate, "request": self.request_id,
                "verdict": self.verdict}


def open_request(
    store: Store, partnership_id: str, *, requested_by: str, to: str | None = None, as_of: date | None = None,
    engine: str = "durable", clock=utcnow,
) -> Opened:
    """Evaluate the gate of the current stage and, if it passes, ask for approval.

    A request already open for this partnership (pending, or approved and not yet applied)
    is returned as it is: that is this step being replayed, not a second request.
    """
    existing = open_or_unapplied(store, partnership_id)
    if existing is not None:
        return Opened(partnership_id, lifecycle.gate_for_move(existing.from_stage, existing.to_stage), existing.id, None)
    target, gate = _target_and_gate(store, partnership_id, to)
    verdict = None
    if gate is not None:
        _, verdict = commands.evaluate_gate(store, partnership_id, _gate_evaluator(engine), as_of=as_of or clock().date(),
                                            gate=gate, actor=requested_by, clock=clock)
        if not verdict["passed"]:
            return Opened(partnership_id, gate, None, verdict)
    request_id = commands.request_approval(store, partnership_id, requested_by=requested_by, to=target,
                                           actor=requested_by, clock=clock)
    return Opened(partnership_id, gate, request_id, verdict)


def record_if_blocked(
    store: Store, partnership_id: str, *, requested_by: str, to: str | None = None, as_of: date | None = None,
    engine: str = "durable", clock=utcnow,
) -> Opened | None:
    """The gate step of ``open_request`` when the gate blocks, done without any workflow: the
    verdict recorded (which queues the leaders' message) and returned as ``Opened``.

    ``None`` leaves everything to the workflow, which records the passing verdict itself: the
    gate passes (nothing is recorded here), the move has no gate, or a request is open. So a
    blocked gate costs a front end only the evaluation, not the start of a workflow engine.
    """
    if open_or_unapplied(store, partnership_id) is not None:
        return None
    _, gate = _target_and_gate(store, partnership_id, to)
    if gate is None:
        return None
    evaluation_id, verdict = commands.evaluate_gate(
        store, partnership_id, _gate_evaluator(engine), as_of=as_of or clock().date(), gate=gate,
        actor=requested_by, clock=clock, record_passed=False)
    return None if evaluation_id is None else Opened(partnership_id, gate, None, verdict)


def _target_and_gate(store: Store, partnership_id: str, to: str | None) -> tuple[str, str | None]:
    row = read(store, lambda session: Repository(session).partnership(partnership_id))
    target = commands.target_of(row, to)
    return target, lifecycle.gate_for_move(row.stage, target)


def _gate_evaluator(engine: str):
    from .gates import evaluate

    return lambda doc, gate, when: evaluate(doc, gate, when, engine).to_json()


def open_or_unapplied(store: Store, partnership_id: str) -> ApprovalRequest | None:
    """The partnership's request that still needs the flow: pending, or approved and not applied."""
    return read(store, lambda session: Repository(session).open_or_unapplied(partnership_id))


def request(store: Store, request_id: int) -> ApprovalRequest:
    with store.sessions() as session:
        found = session.get(ApprovalRequest, request_id)
        if found is None:
            raise UsageError(f"no approval request #{request_id}")
        return found


@dataclass(frozen=True)
class DecisionOutcome:
    """What ``take_decision`` did with a decision that reached the flow.

    ``recorded``; ``already-decided`` (``isp approve`` or the service recorded one first); or
    ``refused``, with ``reason`` (a ``vocabulary.Refusal`` code) and ``message`` (the refusal is
    in the audit log, and the flow waits again)."""

    kind: Literal["recorded", "already-decided", "refused"]
    request_id: int
    reason: str | None = None
    message: str | None = None

    @property
    def refused(self) -> bool:
        return self.kind == "refused"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "request": self.request_id, "reason": self.reason, "message": self.message}


def take_decision(store: Store, request_id: int, *, approver: str, approve: bool, note: str | None = None,
                  clock=utcnow, identity: Identity | None = None) -> DecisionOutcome:
    """Record a decision that reached the flow (e.g. typed into the Prefect UI form, whose
    approver is only asserted)."""
    current = request(store, request_id)
    if current.status != RequestStatus.PENDING:
        return DecisionOutcome("already-decided", request_id)
    try:
        decisions.decide(store, current.partnership_id, approve=approve, note=note, clock=clock,
                         identity=established(identity, approver))
    except RefusedOperation as exc:
        return DecisionOutcome("refused", request_id, exc.reason, str(exc))
    return DecisionOutcome("recorded", request_id)


def settled(store: Store, request_id: int) -> bool:
    """Whether the decision on ``request_id`` is final in the store: rejected, or approved and applied."""
    current = request(store, request_id)
    if current.status == RequestStatus.REJECTED:
        return True
    if current.status != RequestStatus.APPROVED:
        return False
    return read(store, lambda session: Repository(session).transition_for(request_id)) is not None


def apply_decision(store: Store, request_id: int, *, actor: str | None = None, clock=utcnow) -> dict[str, Any]:
    """Act on a recorded decision exactly once: move the stage if approved; nothing if rejected."""
    current = request(store, request_id)
    result = {"partnership": current.partnership_id, "request": request_id, "decision": current.status,
              "from": current.from_stage, "to": current.to_stage, "version": None}
    if current.status != RequestStatus.APPROVED:
        return result
    done = read(store, lambda session: Repository(session).transition_for(request_id))
    if done is not None:
        result["version"] = done.to_version
        return result
    result["version"] = decisions.move_stage(store, current.partnership_id, to=current.to_stage,
                                            actor=actor or current.decided_by, clock=clock)
    return result


def pending(store: Store, now: datetime | None = None) -> list[PendingRequest]:
    """Open approval requests, oldest first, with their age in days (``views.pending_requests``)."""
    return pending_requests(store, now)


def remind_and_escalate(store: Store, now: datetime | None = None, clock=utcnow) -> dict[str, list[int]]:
    """Queue a reminder for requests undecided after ``ISP_REMIND_DAYS`` and an escalation after
    twice that. Each is queued once per request: the outbox key makes a repeat a no-op."""
    now = now or clock()
    days = lifecycle.remind_days()
    sent: dict[str, list[int]] = {"reminded": [], "escalated": []}
    for item in pending(store, now):
        age = now - item.requested_at.replace(microsecond=0)
        if age > timedelta(days=2 * days):
            kind = "escalated"
        elif age > timedelta(days=days):
            kind = "reminded"
        else:
            continue
        if _nudge(store, item.request, item.partnership, kind, now):
            sent[kind].append(item.request)
    return sent


def _nudge(store: Store, request_id: int, partnership_id: str, kind: str, now: datetime) -> bool:
    """Queue the reminder (director and delegates) or escalation (and the leaders) of one
    request, once. Returns whether anything new was queued."""
    from .store.models import Notification

    event = "approval-reminder" if kind == "reminded" else "approval-escalated"

    def work(tx) -> bool:
        current = tx.session.get(ApprovalRequest, request_id)
        if current is None or current.status != RequestStatus.PENDING:
            return False
        row = tx.partnership(current.partnership_id)
        doc = stored_document(tx.current(row))
        recipients = outbox.for_event(event, doc)
        prefix = f"{event}:request-{request_id}:"
        already = tx.session.scalar(select(Notification.id).where(Notification.idempotency_key.startswith(prefix)))
        if already is not None:
            return False
        asked = tx.session.scalars(
            select(Notification.payload)
            .where(Notification.event == "approval-requested", Notification.partnership_id == current.partnership_id)
            .order_by(Notification.id.desc())
        ).first()
        payload = dict(asked if asked and asked.get("request") == request_id else {
            "partnership": current.partnership_id, "request": request_id, "from": current.from_stage,
            "to": current.to_stage, "gate": lifecycle.gate_for_move(current.from_stage, current.to_stage),
            "as_of": None, "findings": [], "requested_by": current.requested_by,
            "requested_at": current.requested_at.isoformat(timespec="seconds")})
        payload["days_waiting"] = (now - current.requested_at).days
        tx.notify(event, f"request-{request_id}", current.partnership_id, recipients, payload)
        tx.audit("remind" if kind == "reminded" else "escalate", current.partnership_id,
                 {"request": request_id, "days_waiting": payload["days_waiting"]})
        return True

    return run_command(store, event, partnership_id, "isp-lifecycle", lambda: now, work)


def apply_decided(store: Store, clock=utcnow) -> list[dict[str, Any]]:
    """Apply every recorded decision whose workflow is gone (approved, not yet applied).

    The scheduled ``escalate-approvals`` flow runs this, so a decision recorded by
    ``isp approve`` is never lost when the run that should have applied it died.
    Applying twice is impossible: a move names its approval, which is unique.
    """
    def unapplied(session) -> list[int]:
        return list(session.scalars(
            select(ApprovalRequest.id)
            .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
            .where(ApprovalRequest.status == RequestStatus.APPROVED, StageTransition.id.is_(None))
            .order_by(ApprovalRequest.id)
        ))

    ids = read(store, unapplied)
    applied = []
    for request_id in ids:
        try:
            applied.append(apply_decision(store, request_id, clock=clock))
        except RefusedOperation:  # applied meanwhile by the waiting run, or no longer applicable
            continue
    return applied
