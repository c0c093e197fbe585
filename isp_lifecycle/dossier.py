"""The partnership page's read view: where it stands, how long each stage took, what its gate
found, the document, its history and audit entries, and what the reader may do.

Visibility is ``authz``'s, judged as the decision page judges it (``decision.caller``): a
reader who may not see the partnership gets ``UnknownPartnership`` (404, nothing disclosed).
Partner contacts read; leaders, directors, delegates, mission staff and admins may also upload
a version, preview the gate and request a move (``may_edit``).

``lines`` maps the paths of an invalid document's problems to the lines of the text the person
sent, so a problem reads "line 14, partners[1].sector: ..." as in their own editor.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from . import assessments_view, authz, services
from .authz import Roles
from .decision import caller
from .errors import UnknownPartnership
from .inbox import counts
from .locations import nearest, positions
from .settings import Settings
from .store import Store
from .store.models import (
    ApprovalRequest,
    AuditEntry,
    DocumentVersion,
    GateEvaluation,
    PartnershipRow,
    StageTransition,
)

AUDIT_SHOWN = 50


def timeline(row: PartnershipRow, moves: list[StageTransition], started: date, today: date) -> list[dict[str, Any]]:
    """Each stage the partnership has been in, oldest first, with when it entered, when it left
    and whole days spent (never negative: a date in the future counts as today)."""
    stages, entered = [], started
    for move in moves:
        left = move.applied_at.date()
        stages.append({"stage": move.from_stage, "entered": entered, "left": left,
                       "days": max(0, (left - entered).days)})
        entered = left
    current_entered = row.stage_entered or entered
    stages.append({"stage": row.stage, "entered": current_entered, "left": None,
                   "days": max(0, (today - current_entered).days)})
    return stages


def _latest_evaluation(session, partnership_id: str) -> dict[str, Any] | None:
    e = session.scalars(select(GateEvaluation).where(GateEvaluation.partnership_id == partnership_id)
                        .order_by(GateEvaluation.id.desc()).limit(1)).first()
    if e is None:
        return None
    blocking, advisory = counts(e.findings)
    return {"gate": e.gate, "as_of": e.as_of, "passed": e.passed, "version": e.document_version,
            "rules_version": e.rules_version, "rules_digest": e.rules_digest, "findings": e.findings,
            "blocking": blocking, "advisory": advisory}


def _audit(session, partnership_id: str) -> list[dict[str, Any]]:
    entries = session.scalars(select(AuditEntry).where(AuditEntry.partnership_id == partnership_id)
                              .order_by(AuditEntry.seq.desc()).limit(AUDIT_SHOWN)).all()
    return [{"seq": a.seq, "at": a.at, "actor": a.actor, "action": a.action} for a in entries]


def view(store: Store, settings: Settings, email: str, partnership_id: str, *, today: date) -> dict[str, Any]:
    """Everything the partnership page shows, for ``email``."""
    with store.sessions() as session:
        row = session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        document = json.loads(session.scalars(select(DocumentVersion.document).where(
            DocumentVersion.partnership_id == row.id, DocumentVersion.version == row.current_version)).one())
        roles = Roles.of(document)
        who = caller(session, settings, email, roles)
        if not authz.sees(who, roles):
            raise UnknownPartnership(partnership_id)
        moves = session.scalars(select(StageTransition).where(StageTransition.partnership_id == row.id)
                                .order_by(StageTransition.id)).all()
        open_request = session.scalars(
            select(ApprovalRequest.id).where(ApprovalRequest.partnership_id == row.id,
                                             ApprovalRequest.status == "pending")).first()
        started = date.fromisoformat(document.get("started") or row.stage_entered.isoformat())
        seen = {
            "partnership": {"id": row.id, "name": row.name, "mission": row.mission, "stage": row.stage,
                            "stage_entered": row.stage_entered, "version": row.current_version},
            "timeline": timeline(row, list(moves), started, today),
            "evaluation": _latest_evaluation(session, row.id),
            "document": document,
            "open_request": open_request,
            "may_edit": authz.may_edit(who, roles),
            "audit": _audit(session, row.id),
            "assessments": assessments_view.summary(session, row.id),
        }
    seen["history"] = services.history(store, partnership_id)  # its own transaction
    return seen


def lines(text: str) -> dict[str, int]:
    """Path → line (1-based) of every key and list item of a YAML or JSON text (``locations``);
    {} if it does not parse (a syntax error names its own line)."""
    return {path: line for path, (line, _) in positions(text).items()}


line_of = nearest  # the line of a path, else of its nearest parent that has one
