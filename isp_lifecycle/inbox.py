"""Who is waiting on whom: the read view behind the "Waiting on you" page.

A director or delegate sees every request they may decide (judged, as a decision is, against
the version the request rests on; never their own), oldest first, with how long it has waited
against ``ISP_REMIND_DAYS`` and the blocking/advisory counts of the evaluation it rests on. A
leader (or anyone who asked for a move) sees their requests still in flight: pending, or
approved and not yet applied.

Emails are first narrowed in SQL by a case-insensitive ``contains`` on the stored document (a
cheap scan that stays cheap on 10,000 partnerships), then confirmed on the parsed document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from .authz import Roles
from .store import Store
from .store.models import ApprovalRequest, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition


@dataclass(frozen=True)
class Waiting:
    """One request in someone's inbox."""

    request: int
    partnership: str
    name: str
    mission: str
    from_stage: str
    to_stage: str
    requested_by: str
    requested_at: datetime
    age_days: int
    nudge: str | None  # None, "reminder sent" or "escalated": what ISP_REMIND_DAYS has done by now
    blocking: int
    advisory: int
    status: str  # pending | approved (approved and not yet applied: "applying")


def counts(findings: list[dict[str, Any]] | None) -> tuple[int, int]:
    """(blocking, advisory) findings of a recorded verdict."""
    blocking = sum(1 for f in findings or [] if f.get("severity") == "blocking")
    return blocking, len(findings or []) - blocking


def nudge(age_days: float, remind_days: int) -> str | None:
    """What the reminder schedule has done to a request this old (``approvals.remind_and_escalate``)."""
    if age_days > 2 * remind_days:
        return "escalated"
    if age_days > remind_days:
        return "reminder sent"
    return None


def _rows(store: Store, email: str, *, statuses: tuple[str, ...]):
    """Requests of these statuses whose version names ``email`` somewhere or that ``email`` made,
    with their partnership, the document they rest on, their findings and whether they moved."""
    who = email.casefold()
    query = (
        select(ApprovalRequest, PartnershipRow.name, PartnershipRow.mission, DocumentVersion.document,
               GateEvaluation.findings, StageTransition.id)
        .join(PartnershipRow, PartnershipRow.id == ApprovalRequest.partnership_id)
        .join(DocumentVersion, (DocumentVersion.partnership_id == ApprovalRequest.partnership_id)
              & (DocumentVersion.version == ApprovalRequest.document_version))
        .outerjoin(GateEvaluation, GateEvaluation.id == ApprovalRequest.evaluation_id)
        .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
        .where(ApprovalRequest.status.in_(statuses))
        .where(func.lower(DocumentVersion.document).contains(who) | (func.lower(ApprovalRequest.requested_by) == who))
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    )
    with store.sessions() as session:
        return session.execute(query).all()


def _item(request: ApprovalRequest, name: str, mission: str, findings, now: datetime, remind_days: int) -> Waiting:
    age = now - request.requested_at
    blocking, advisory = counts(findings)
    return Waiting(request.id, request.partnership_id, name, mission, request.from_stage, request.to_stage,
                   request.requested_by, request.requested_at, age.days,
                   nudge(age.total_seconds() / 86400, remind_days) if request.status == "pending" else None,
                   blocking, advisory, request.status)


def waiting_on(store: Store, email: str, *, now: datetime, remind_days: int) -> list[Waiting]:
    """Every pending request ``email`` may decide, oldest first."""
    who = email.casefold()
    items = []
    for request, name, mission, document, findings, _ in _rows(store, email, statuses=("pending",)):
        if who in Roles.of(json.loads(document)).deciders and request.requested_by.casefold() != who:
            items.append(_item(request, name, mission, findings, now, remind_days))
    return items


def in_flight(store: Store, email: str, *, now: datetime, remind_days: int) -> list[Waiting]:
    """Requests ``email`` made or leads, still pending or approved and not yet applied."""
    who = email.casefold()
    items = []
    for request, name, mission, document, findings, moved in _rows(store, email, statuses=("pending", "approved")):
        if request.status == "approved" and moved is not None:
            continue
        if request.requested_by.casefold() == who or who in Roles.of(json.loads(document)).leaders:
            items.append(_item(request, name, mission, findings, now, remind_days))
    return items
