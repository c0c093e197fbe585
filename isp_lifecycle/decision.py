"""The decision page's read view and its one action, deciding.

``view`` gathers what a director needs to decide without leaving the page: the partnership,
the move, who asked and when, the gate evaluation the request rests on (findings with the
handbook's words and what to do), what changed in the document since the previous gate (the
version approved then, or the first version), the history, and where the request stands
(pending, applying, applied, rejected, or stale and why). A caller who may not see the
partnership gets ``UnknownPartnership`` (404: its existence is not disclosed); one who may see
it but not decide gets ``may_decide = False``, and ``decide`` refuses them (403, audited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import approvals, docdiff, services
from .errors import RefusedOperation, StaleUpdate, UnknownPartnership
from .identity import Identity
from .inbox import People, counts, nudge
from .settings import Settings
from .store import Store, audit
from .store.models import ApprovalRequest, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition

NOTE_LIMIT = 2000


class NotAllowed(RefusedOperation):
    """The caller may see the request but not decide it (HTTP 403)."""


def _document(session: Session, partnership_id: str, version: int) -> dict[str, Any]:
    text = session.scalars(select(DocumentVersion.document).where(
        DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == version)).one()
    return json.loads(text)


def sees(session: Session, settings: Settings, email: str, people: People) -> bool:
    """May ``email`` see a partnership naming ``people``? Admins, mission staff, the people it
    names, and directors or delegates of any partnership of the same mission."""
    who = email.casefold()
    if settings.is_admin(who) or people.mission in settings.staff_missions(who) or people.names(who):
        return True
    candidates = session.scalars(
        select(DocumentVersion.document)
        .join(PartnershipRow, (PartnershipRow.id == DocumentVersion.partnership_id)
              & (PartnershipRow.current_version == DocumentVersion.version))
        .where(func.lower(PartnershipRow.mission) == people.mission)
        .where(func.lower(DocumentVersion.document).contains(who))
    )
    return any(who in People.of(json.loads(text)).deciders for text in candidates)


def may_request(settings: Settings, email: str, people: People) -> bool:
    """Upload versions and request moves: admins, mission staff, director, delegates, leaders."""
    who = email.casefold()
    return (settings.is_admin(who) or people.mission in settings.staff_missions(who)
            or who in people.deciders or who in people.leaders)


@dataclass
class Visible:
    request: ApprovalRequest
    row: PartnershipRow
    people: People  # of the version the request rests on
    moved: StageTransition | None


def _visible(session: Session, settings: Settings, email: str, request_id: int) -> Visible:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise UnknownPartnership(f"request {request_id}")
    row = session.get(PartnershipRow, request.partnership_id)
    current = People.of(_document(session, row.id, row.current_version))
    if not sees(session, settings, email, current):
        raise UnknownPartnership(f"request {request_id}")
    rested = People.of(_document(session, row.id, request.document_version))
    moved = session.scalars(select(StageTransition).where(StageTransition.approval_id == request_id)).first()
    return Visible(request, row, rested, moved)


def state(request: ApprovalRequest, moved: StageTransition | None) -> str:
    """pending | applying (approved, the stage not yet moved) | applied | rejected | stale."""
    if request.status == "approved":
        return "applied" if moved is not None else "applying"
    return request.status


def _previous_gate_version(session: Session, request: ApprovalRequest) -> int | None:
    """The version approved at the previous gate (what the director approved last time), else
    the first version; None when the request rests on the first version itself."""
    last = session.scalars(
        select(StageTransition.from_version)
        .where(StageTransition.partnership_id == request.partnership_id,
               StageTransition.from_version < request.document_version)
        .order_by(StageTransition.id.desc()).limit(1)).first()
    before = last or 1
    return None if before >= request.document_version else before


def _evaluation(session: Session, request: ApprovalRequest) -> dict[str, Any] | None:
    if request.evaluation_id is None:
        return None
    e = session.get(GateEvaluation, request.evaluation_id)
    blocking, advisory = counts(e.findings)
    return {"gate": e.gate, "as_of": e.as_of, "passed": e.passed, "version": e.document_version,
            "rules_version": e.rules_version, "rules_digest": e.rules_digest, "findings": e.findings,
            "blocking": blocking, "advisory": advisory}


def _stale_reason(request: ApprovalRequest, row: PartnershipRow) -> str | None:
    if request.status != "stale":
        return None
    return (f"The document changed after this request was made (version {request.document_version} → "
            f"{row.current_version}), so the gate it rests on no longer describes it. The gate must be run "
            "again on the new version before anyone can decide.")


def view(store: Store, settings: Settings, email: str, request_id: int, *, now: datetime) -> dict[str, Any]:
    """Everything the decision page shows, for ``email``."""
    with store.sessions() as session:
        seen = _visible(session, settings, email, request_id)
        request, row = seen.request, seen.row
        before_version = _previous_gate_version(session, request)
        after = _document(session, row.id, request.document_version)
        before = _document(session, row.id, before_version) if before_version else None
        current = People.of(_document(session, row.id, row.current_version))
        who = email.casefold()
        age = now - request.requested_at
        seen_view = {
            "approval": request, "state": state(request, seen.moved), "moved": seen.moved,
            "partnership": {"id": row.id, "name": row.name, "mission": row.mission, "stage": row.stage,
                            "version": row.current_version},
            "evaluation": _evaluation(session, request),
            "diff": docdiff.diff(before, after, before_version=before_version, after_version=request.document_version),
            "age_days": age.days,
            "nudge": nudge(age.total_seconds() / 86400, settings.remind_days) if request.status == "pending" else None,
            "stale_reason": _stale_reason(request, row),
            "may_decide": (request.status == "pending" and who in seen.people.deciders
                           and who != request.requested_by.casefold()),
            "may_request": may_request(settings, email, current),
        }
    seen_view["history"] = services.history(store, seen_view["partnership"]["id"])  # its own transaction
    return seen_view


def _refused(store: Store, identity: Identity, action: str, partnership_id: str, exc: Exception) -> None:
    """Audit a refusal on a partnership the caller may see (the API's 403 and 409 are audited)."""
    with store.sessions.begin() as session:
        audit.append(session, audit.load_key(), at=services.utcnow().isoformat() + "Z", actor=identity.email,
                     action=f"{action}.refused", partnership_id=partnership_id,
                     detail={"reason": str(exc), "error": type(exc).__name__, "identity": identity.as_audit()})


def decide(store: Store, settings: Settings, identity: Identity, request_id: int, *, approve: bool,
           note: str | None) -> str:
    """Record the decision and apply it; returns the request's state afterwards.

    Raises ``UnknownPartnership`` (not visible), ``NotAllowed`` (may see, may not decide),
    ``StaleUpdate`` / ``RefusedOperation`` (stale, already decided): each refusal audited.
    """
    action = "approve" if approve else "reject"
    with store.sessions() as session:
        seen = _visible(session, settings, identity.email, request_id)
    request, who = seen.request, identity.email.casefold()
    try:
        if who not in seen.people.deciders:
            raise NotAllowed(f"{identity.email} may not decide for {request.partnership_id}: only its mission "
                             "director or a delegate")
        if who == request.requested_by.casefold():
            raise NotAllowed(f"{identity.email} requested this move and may not also decide it")
        if settings.require_signed_in and not identity.verified_for_decisions:
            raise NotAllowed(f"ISP_REQUIRE_SIGNED_IN=1: a decision needs a signed-in identity, not {identity.method}")
        if request.status != "pending":
            raise (StaleUpdate if request.status == "stale" else RefusedOperation)(
                f"approval request #{request_id} is already {request.status}")
    except RefusedOperation as exc:
        _refused(store, identity, action, request.partnership_id, exc)
        raise
    services.decide(store, request.partnership_id, by=identity.email, approve=approve, note=note)
    applied = approvals.apply_decision(store, request_id, actor=identity.email)
    return "applied" if applied["decision"] == "rejected" or applied["version"] else "applying"
