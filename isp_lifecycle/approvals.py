"""Gate approval as use cases the flows call: open a request, take a decision, apply it,
remind and escalate. No Prefect here: every function is one or two store transactions and
safe to call again (a replayed flow step finds its work done and does nothing twice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from . import lifecycle, outbox, services
from .uow import Repository, read, run_command, stored_document
from .errors import RefusedOperation, UsageError
from .store import Store
from .store.models import ApprovalRequest, PartnershipRow, StageTransition


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


def _row(store: Store, partnership_id: str) -> PartnershipRow:
    return read(store, lambda session: Repository(session).partnership(partnership_id))


def open_request(
    store: Store, partnership_id: str, *, requested_by: str, to: str | None = None, as_of: date | None = None,
    engine: str = "durable", clock=services.utcnow,
) -> Opened:
    """Evaluate the gate of the current stage and, if it passes, ask for approval.

    A request already open for this partnership (pending, or approved and not yet applied)
    is returned as it is: that is this step being replayed, not a second request.
    """
    from .gates import evaluate

    existing = open_or_unapplied(store, partnership_id)
    if existing is not None:
        return Opened(partnership_id, lifecycle.gate_for_move(existing.from_stage, existing.to_stage), existing.id, None)
    row = _row(store, partnership_id)
    target = to or lifecycle.next_stage(row.stage)
    if target is None:
        raise RefusedOperation(f"{partnership_id} is {row.stage}: there is no stage to move to")
    lifecycle.check_move(row.stage, target)
    gate = lifecycle.gate_for_move(row.stage, target)
    verdict = None
    as_of = as_of or clock().date()
    if gate is not None:
        _, verdict = services.evaluate_gate(
            store, partnership_id, lambda doc, g, when: evaluate(doc, g, when, engine).to_json(),
            as_of=as_of, gate=gate, actor=requested_by, clock=clock,
        )
        if not verdict["passed"]:
            return Opened(partnership_id, gate, None, verdict)
    request_id = services.request_approval(store, partnership_id, requested_by=requested_by, to=target,
                                           actor=requested_by, clock=clock)
    return Opened(partnership_id, gate, request_id, verdict)


def open_or_unapplied(store: Store, partnership_id: str) -> ApprovalRequest | None:
    """The partnership's request that still needs the flow: pending, or approved and not applied."""
    return read(store, lambda session: Repository(session).open_or_unapplied(partnership_id))


def request(store: Store, request_id: int) -> ApprovalRequest:
    with store.sessions() as session:
        found = session.get(ApprovalRequest, request_id)
        if found is None:
            raise UsageError(f"no approval request #{request_id}")
        return found


def take_decision(store: Store, request_id: int, *, approver: str, approve: bool, note: str | None = None,
                  clock=services.utcnow) -> str:
    """Record a decision that reached the flow (e.g. typed into the Prefect UI form).

    Returns ``"recorded"``, ``"already-decided"`` (``isp approve`` recorded it first) or
    ``"refused: <reason>"`` (the refusal is in the audit log, and the flow waits again).
    """
    current = request(store, request_id)
    if current.status != "pending":
        return "already-decided"
    try:
        services.decide(store, current.partnership_id, by=approver, approve=approve, note=note, clock=clock)
    except RefusedOperation as exc:
        return f"refused: {exc}"
    return "recorded"


def apply_decision(store: Store, request_id: int, *, actor: str | None = None, clock=services.utcnow) -> dict[str, Any]:
    """Act on a recorded decision exactly once: move the stage if approved; nothing if rejected."""
    current = request(store, request_id)
    result = {"partnership": current.partnership_id, "request": request_id, "decision": current.status,
              "from": current.from_stage, "to": current.to_stage, "version": None}
    if current.status != "approved":
        return result
    done = read(store, lambda session: Repository(session).transition_for(request_id))
    if done is not None:
        result["version"] = done.to_version
        return result
    result["version"] = services.move_stage(store, current.partnership_id, to=current.to_stage,
                                            actor=actor or current.decided_by, clock=clock)
    return result


def pending(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open approval requests, oldest first, with their age in days."""
    now = now or services.utcnow()
    with store.sessions() as session:
        rows = session.execute(
            select(ApprovalRequest, PartnershipRow.name)
            .join(PartnershipRow, PartnershipRow.id == ApprovalRequest.partnership_id)
            .where(ApprovalRequest.status == "pending")
            .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        ).all()
    return [
        {"request": r.id, "partnership": r.partnership_id, "name": name, "from": r.from_stage, "to": r.to_stage,
         "requested_by": r.requested_by, "requested_at": r.requested_at.isoformat(timespec="seconds"),
         "age_days": (now - r.requested_at).days}
        for r, name in rows
    ]


def remind_and_escalate(store: Store, now: datetime | None = None, clock=services.utcnow) -> dict[str, list[int]]:
    """Queue a reminder for requests undecided after ``ISP_REMIND_DAYS`` and an escalation after
    twice that. Each is queued once per request: the outbox key makes a repeat a no-op."""
    now = now or clock()
    days = lifecycle.remind_days()
    sent: dict[str, list[int]] = {"reminded": [], "escalated": []}
    for item in pending(store, now):
        age = now - datetime.fromisoformat(item["requested_at"])
        if age > timedelta(days=2 * days):
            kind = "escalated"
        elif age > timedelta(days=days):
            kind = "reminded"
        else:
            continue
        if _nudge(store, item["request"], item["partnership"], kind, now):
            sent[kind].append(item["request"])
    return sent


def _nudge(store: Store, request_id: int, partnership_id: str, kind: str, now: datetime) -> bool:
    """Queue the reminder (director and delegates) or escalation (and the leaders) of one
    request, once. Returns whether anything new was queued."""
    from .store.models import Notification

    event = "approval-reminder" if kind == "reminded" else "approval-escalated"

    def work(tx) -> bool:
        current = tx.session.get(ApprovalRequest, request_id)
        if current is None or current.status != "pending":
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


def apply_decided(store: Store, clock=services.utcnow) -> list[dict[str, Any]]:
    """Apply every recorded decision whose workflow is gone (approved, not yet applied).

    The scheduled ``escalate-approvals`` flow runs this, so a decision recorded by
    ``isp approve`` is never lost when the run that should have applied it died.
    Applying twice is impossible: a move names its approval, which is unique.
    """
    with store.sessions() as session:
        ids = session.scalars(
            select(ApprovalRequest.id)
            .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
            .where(ApprovalRequest.status == "approved", StageTransition.id.is_(None))
            .order_by(ApprovalRequest.id)
        ).all()
    applied = []
    for request_id in ids:
        try:
            applied.append(apply_decision(store, request_id, clock=clock))
        except RefusedOperation:  # applied meanwhile by the waiting run, or no longer applicable
            continue
    return applied
