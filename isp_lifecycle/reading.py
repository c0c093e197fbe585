"""What the service's reads are made of: one read's view of the store (``Reading``), and the
JSON objects of approval requests and verdicts that reads show.

A read is served from memory when the caller's reading of the store's clock says the kept
snapshot (``portfolio.Snapshots``) and the partnerships' kept details (``portfolio.Details``)
are current; otherwise from a session opened on first need. A caller that must not wait on
the database (the HTTP service's event loop) asks for memory only and, on ``NeedsStore``,
asks again where it may wait.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .portfolio import BATCH, Details, Portfolio, Snapshots
from .store.models import ApprovalRequest, GateEvaluation


def stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


class NeedsStore(Exception):
    """A read asked to answer from memory alone (``memory_only``) must read the store: ask
    again without it, where waiting on the database is allowed."""


def approval_object(r: ApprovalRequest, applied: bool) -> dict[str, Any]:
    decided = r.status in ("approved", "rejected")
    return {"id": r.id, "partnership": r.partnership_id, "from": r.from_stage, "to": r.to_stage,
            "requested_by": r.requested_by, "requested_at": stamp(r.requested_at), "status": r.status,
            "applied": applied, "decided_by": r.decided_by if decided else None,
            "decided_at": stamp(r.decided_at) if decided else None,
            "decision": {"approved": "approve", "rejected": "reject"}.get(r.status),
            "note": r.note if decided else None}


class Reading:
    """One read's view of the store: the portfolio snapshot, and the partnerships' details, from
    memory when they are current as of the caller's clock reading (``tick``), else from a
    session opened on first need, or ``NeedsStore`` when the caller asked for memory only."""

    def __init__(self, snapshots: Snapshots, pending: Details, verdicts: Details, sessions: sessionmaker,
                 tick: int | None, memory_only: bool) -> None:
        self.snapshots, self.kept_pending, self.kept_verdicts = snapshots, pending, verdicts
        self.sessions, self.tick, self.memory_only = sessions, tick, memory_only
        self._session: Session | None = None
        self._portfolio: Portfolio | None = None

    def session(self) -> Session:
        if self._session is None:
            if self.memory_only:
                raise NeedsStore
            self._session = self.sessions()
        return self._session

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *_exc) -> None:
        if self._session is not None:
            self._session.close()

    def portfolio(self) -> Portfolio:
        if self._portfolio is None:
            found = self.snapshots.at(self.tick) if self.tick is not None else None
            self._portfolio = found if found is not None else self.snapshots.current(self.session())
        return self._portfolio

    def pending(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Each partnership's pending requests (approval objects), oldest first."""
        return self._details(self.kept_pending, ids, _pending_of)

    def verdict(self, partnership_id: str, also: Callable[[], list[str]] | None = None) -> dict[str, Any] | None:
        """The partnership's latest recorded gate verdict (``also``: as ``Details.get``)."""
        return self._details(self.kept_verdicts, [partnership_id], _verdicts_of, also)[partnership_id]

    def _details(self, kept: Details, ids: list[str], read, also=None) -> dict[str, Any]:
        portfolio = self.portfolio()
        found = kept.get(portfolio, ids, None if self.memory_only else lambda missing: read(self.session(), missing),
                         also)
        if found is None:
            raise NeedsStore
        return found


def _pending_of(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for start in range(0, len(ids), BATCH):
        for request in session.scalars(select(ApprovalRequest).where(
                ApprovalRequest.partnership_id.in_(ids[start:start + BATCH]), ApprovalRequest.status == "pending")
                .order_by(ApprovalRequest.id)):
            found[request.partnership_id].append(approval_object(request, False))
    return found


def _verdicts_of(session: Session, ids: list[str]) -> dict[str, dict[str, Any] | None]:
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
    for start in range(0, len(ids), BATCH):
        latest = (select(func.max(GateEvaluation.id)).where(GateEvaluation.partnership_id.in_(ids[start:start + BATCH]))
                  .group_by(GateEvaluation.partnership_id))
        for evaluation in session.scalars(select(GateEvaluation).where(GateEvaluation.id.in_(latest))):
            found[evaluation.partnership_id] = verdict_object(evaluation)
    return found


def verdict_object(evaluation: GateEvaluation | None) -> dict[str, Any] | None:
    if evaluation is None:
        return None
    return {"partnership": evaluation.partnership_id, "gate": evaluation.gate, "as_of": evaluation.as_of.isoformat(),
            "passed": evaluation.passed, "rules": {"version": evaluation.rules_version,
                                                   "digest": evaluation.rules_digest},
            "findings": evaluation.findings}
