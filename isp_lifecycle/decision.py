"""The decision page's read view and its one action, deciding.

``view`` gathers what a director needs to decide without leaving the page: the partnership,
the move, who asked and when, the gate evaluation the request rests on (findings with the
handbook's words and what to do), what changed in the document since the previous gate (the
version approved then, or the first version), the history, and where the request stands
(pending, applying, applied, rejected, or stale and why). A caller who may not see the
partnership gets ``UnknownPartnership`` (404: its existence is not disclosed); one who may see
it but not decide gets ``may_decide = False`` (deciding itself is ``access.Access.decide``, the
same call the JSON API makes). Who may do what is ``authz``'s; this module only finds, cheaply,
whether the caller directs or deputises any partnership of the same mission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from . import authz, docdiff, services
from .authz import Roles
from .errors import UnknownPartnership, UsageError
from .identity import Identity
from .inbox import counts, nudge
from .settings import Settings
from .store import Store, audit
from .store.models import (
    ApprovalRequest,
    AuditEntry,
    DocumentVersion,
    GateEvaluation,
    PartnershipRow,
    StageTransition,
)

def _document(session: Session, partnership_id: str, version: int) -> dict[str, Any]:
    text = session.scalars(select(DocumentVersion.document).where(
        DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == version)).one()
    return json.loads(text)


def caller(session: Session, settings: Settings, email: str, roles: Roles) -> authz.Caller:
    """The caller as ``authz`` judges them for one partnership. Mission-wide sight (directing or
    deputising any partnership of that mission) is looked up only when nothing cheaper already
    lets them see it: the mission's partnerships first (a scan of the small table), then only
    their current documents that mention the email, confirmed on the parsed ones."""
    who = email.casefold()
    plain = authz.Caller(Identity(email), settings.is_admin(who), settings.staff_missions(who), frozenset())
    if authz.sees(plain, roles):
        return plain
    keys = session.execute(select(PartnershipRow.id, PartnershipRow.current_version)
                           .where(func.lower(PartnershipRow.mission) == roles.mission)).all()
    decides = False
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        texts = session.scalars(
            select(DocumentVersion.document)
            .where(tuple_(DocumentVersion.partnership_id, DocumentVersion.version).in_(chunk))
            .where(func.lower(DocumentVersion.document).contains(who)))
        if any(who in Roles.of(json.loads(text)).deciders for text in texts):
            decides = True
            break
    return authz.Caller(plain.identity, plain.admin, plain.staff_of, frozenset({roles.mission}) if decides else frozenset())


@dataclass
class Visible:
    request: ApprovalRequest
    row: PartnershipRow
    roles: Roles  # of the version the request rests on
    may_edit: bool  # upload versions and request moves (judged on the current version)
    moved: StageTransition | None


def _visible(session: Session, settings: Settings, email: str, request_id: int) -> Visible:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise UnknownPartnership(f"request {request_id}")
    row = session.get(PartnershipRow, request.partnership_id)
    current = Roles.of(_document(session, row.id, row.current_version))
    who = caller(session, settings, email, current)
    if not authz.sees(who, current):
        raise UnknownPartnership(f"request {request_id}")
    rested = Roles.of(_document(session, row.id, request.document_version))
    moved = session.scalars(select(StageTransition).where(StageTransition.approval_id == request_id)).first()
    return Visible(request=request, row=row, roles=rested, may_edit=authz.may_edit(who, current), moved=moved)


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
            "may_decide": (request.status == "pending" and who in seen.roles.deciders
                           and who != request.requested_by.casefold()),
            "may_request": seen.may_edit,
            "comments": comments(session, request),
            "may_comment": may_comment(who, request, seen.roles, seen.may_edit),
        }
    seen_view["history"] = services.history(store, seen_view["partnership"]["id"])  # its own transaction
    return seen_view


COMMENT_LIMIT = 2000


def may_comment(who: str, request: ApprovalRequest, roles: Roles, may_edit: bool) -> bool:
    """Those the request concerns: its deciders, its requester, and whoever may request moves."""
    return may_edit or who in roles.deciders or who == request.requested_by.casefold()


def comments(session: Session, request: ApprovalRequest) -> list[dict[str, Any]]:
    """The request's thread, oldest first (kept in the audit log, which nobody rewrites)."""
    entries = session.scalars(select(AuditEntry).where(AuditEntry.partnership_id == request.partnership_id,
                                                       AuditEntry.action == "comment").order_by(AuditEntry.seq))
    return [{"by": e.actor, "at": e.at, "text": e.detail.get("text", "")} for e in entries
            if e.detail.get("request") == request.id]


def comment(store: Store, settings: Settings, identity: Identity, request_id: int, text: str,
            *, clock=services.utcnow) -> None:
    """Add to a request's thread without deciding it: audited (the entry is the comment) and sent
    to the requester, the leaders, the director and the delegates. ``UnknownPartnership`` for
    whoever may not see it; ``authz.Forbidden`` for a partner contact."""
    from . import outbox
    from .document import validate

    text = text.strip()
    with store.sessions() as session:
        seen = _visible(session, settings, identity.email, request_id)
    request = seen.request
    if not may_comment(identity.email.casefold(), request, seen.roles, seen.may_edit):
        raise authz.Forbidden(f"{identity.email} may read this request but not write in its thread")
    if not text or len(text) > COMMENT_LIMIT:
        raise UsageError(f"a comment holds 1 to {COMMENT_LIMIT} characters, not {len(text)}")
    now = clock()
    with store.sessions.begin() as session:
        row = session.get(PartnershipRow, request.partnership_id)
        doc = validate(_document(session, row.id, row.current_version), row.id)
        entry = audit.append(session, audit.load_key(), at=now.isoformat() + "Z", actor=identity.email,
                             action="comment", partnership_id=row.id,
                             detail={"request": request.id, "text": text, "identity": identity.as_audit()})
        payload = {"partnership": row.id, "request": request.id, "from": request.from_stage, "to": request.to_stage,
                   "by": identity.email, "requested_by": request.requested_by, "text": text,
                   "at": now.isoformat(timespec="seconds")}
        outbox.queue(session, event="approval-comment", subject=f"request-{request.id}-comment-{entry.seq}",
                     partnership_id=row.id, recipients=outbox.for_event("approval-comment", doc,
                                                                        requester=request.requested_by),
                     payload=payload, now=now)
