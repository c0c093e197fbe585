"""The portfolio page's read view: the latest review, what needs attention first.

For mission staff, directors, delegates and admins (``authz``: staff see their missions,
directors and delegates the missions where they decide, admins all). Built on the latest
complete review (its recorded results, so every figure is the review's own, as of its date),
with what happened since: a request waiting for a decision now, a partnership that moved after
the review's as-of date (flagged, never a negative age). Needs attention first: a decision
waiting, then a blocked gate, then alerts; then the longest in their stage. Paged, so the page
stays light on a 10,000-partnership store. New alerts come from the review's record
(``new_alerts``), cleared ones as ``isp review`` says them: raised by the previous review of
the same scope and no longer (``review_results.cleared_since_previous``). Beyond counts,
``portfolio_trends`` gives each partnership its standing in the last reviews and the portfolio
its totals per review, alerts by kind and the principles most often blocking.

``view`` is one page of the web's portfolio; ``review_content`` the same content for one
recorded review, whole, which ``isp report`` renders from the same templates.

Both the scope and a page cost a scan of the store (~0.2 s each on 10,000 partnerships on
SQLite), yet stay the same until something changes: every change of the record writes an audit
entry and a review its finish time, so (latest audit entry, latest finished review) is a stamp
read through two primary-key or narrow lookups, and a small per-process cache keyed by it
answers repeated views at once, in every process serving the same store. What depends on the
review alone (trends, alerts by kind, principles) is cached by the review, across changes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from . import portfolio_trends as trends
from . import review_results
from .assessments_view import grid
from .authz import Roles
from .settings import Settings
from .store import Store
from .store.models import (
    ApprovalRequest,
    AuditEntry,
    DocumentVersion,
    PartnershipRow,
    PortfolioReview,
    PortfolioReviewResult,
)

PAGE_SIZE = 50
CLOSED_LISTED = 10  # closed partnerships named on a page (a report names up to its limit)
CACHED = 256


class _Cache:
    """Answers keyed by the store's change stamp; the oldest dropped past ``CACHED``."""

    def __init__(self) -> None:
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get_or(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            self.items[key] = value
            while len(self.items) > CACHED:
                self.items.popitem(last=False)
        return value


_cache = _Cache()


def stamp(store: Store) -> tuple:
    """Changes whenever the record or the reviews change (see the module's docstring)."""
    with store.sessions() as session:
        return (id(store), session.scalar(select(func.max(AuditEntry.seq))),
                session.scalar(select(func.max(PortfolioReview.finished_at))))


@dataclass(frozen=True)
class Scope:
    """Whose portfolio: every mission (admins), or these missions (case-folded)."""

    everything: bool
    missions: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.everything and not self.missions


def scope(store: Store, settings: Settings, email: str) -> Scope:
    """The missions ``email`` may see as a portfolio. Directors are found by the review's own
    ``director`` column; delegates by the current documents that mention them."""
    who = email.casefold()
    if settings.is_admin(who):
        return Scope(True, frozenset())
    found = _cache.get_or(("scope", stamp(store), who), lambda: _deciding(store, who))
    return Scope(False, frozenset(settings.staff_missions(who)) | found)


def _deciding(store: Store, who: str) -> frozenset[str]:
    missions: set[str] = set()
    with store.sessions() as session:
        missions |= {m.casefold() for m in session.scalars(
            select(PortfolioReviewResult.mission).where(func.lower(PortfolioReviewResult.director) == who).distinct())}
        texts = session.scalars(
            select(DocumentVersion.document)
            .join(PartnershipRow, (PartnershipRow.id == DocumentVersion.partnership_id)
                  & (PartnershipRow.current_version == DocumentVersion.version))
            .where(func.lower(DocumentVersion.document).contains(who)))
        for text in texts:
            roles = Roles.of(json.loads(text))
            if who in roles.deciders:
                missions.add(roles.mission)
    return frozenset(missions)


def _latest_review(session) -> PortfolioReview | None:
    return session.scalars(select(PortfolioReview).where(PortfolioReview.status == "complete")
                           .order_by(PortfolioReview.as_of.desc(), PortfolioReview.id.desc()).limit(1)).first()


def _within(query, wanted: Scope, mission: str | None):
    if mission:
        query = query.where(func.lower(PortfolioReviewResult.mission) == mission.casefold())
    if not wanted.everything:
        query = query.where(func.lower(PortfolioReviewResult.mission).in_(wanted.missions))
    return query


def view(store: Store, wanted: Scope, *, mission: str | None = None, page: int = 1) -> dict[str, Any]:
    """One page of the latest review's partnerships in ``wanted`` (and ``mission``)."""
    page, now = max(1, page), stamp(store)
    return _cache.get_or(("view", now, wanted, mission, page), lambda: _view(store, now, wanted, mission, page))


def review_content(store: Store, review_id: int, *, limit: int) -> dict[str, Any]:
    """The portfolio page's content for one recorded review, whole (its first ``limit``
    partnerships, each with its findings): what ``isp report`` renders."""
    with store.sessions() as session:
        review = session.get(PortfolioReview, review_id)
        everything, mission = Scope(True, frozenset()), review.mission or None
        content = _summary(session, review, everything, mission)
        rows, total = _rows(session, review, everything, mission, 0, limit, findings=True)
        closed = _closed(session, everything, mission, limit)
    return {**content, "rows": rows, "total": total, "page": 1, "pages": 1, **closed}


def _view(store: Store, now: tuple, wanted: Scope, mission: str | None, page: int) -> dict[str, Any]:
    with store.sessions() as session:
        review = _latest_review(session)
        if review is None or wanted.empty:
            return {"review": review, "rows": [], "page": page, "pages": 1, "total": 0}
        key = ("summary", now[0], review.id, now[2], wanted, mission)  # a review's record never changes
        content = _cache.get_or(key, lambda: _summary(session, review, wanted, mission))
        rows, total = _rows(session, review, wanted, mission, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        closed = _closed(session, wanted, mission, CLOSED_LISTED)
        ratings = grid(session, [r["id"] for r in rows])  # the partners' latest ratings (docs/assessments.md)
    return {**content, "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
            "assessments": ratings, **closed}


def _summary(session, review: PortfolioReview, wanted: Scope, mission: str | None) -> dict[str, Any]:
    """What does not change until another review: the trend, alerts by kind, failing principles."""
    def within(query):
        return _within(query, wanted, mission)

    reviews = trends.recent(session, review)
    totals = trends.totals(session, reviews, within)
    kinds = trends.alert_kinds(session, review, within)
    return {"review": review, "previous": reviews[1] if len(reviews) > 1 else None, "trends": totals,
            "changes": trends.changes(totals, kinds), "alert_kinds": kinds,
            "principles": trends.principles(session, review, within),
            "missions": _missions(session, review, wanted), "stages": trends.REVIEWED_STAGES}


def _rows(session, review: PortfolioReview, wanted: Scope, mission: str | None, offset: int, limit: int,
          findings: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Needs attention first: a decision waiting, a blocked gate, alerts; then the longest in
    their stage. With each row its marks across the last reviews and the alerts it cleared."""
    pending = (select(ApprovalRequest.partnership_id, func.min(ApprovalRequest.id).label("request"))
               .where(ApprovalRequest.status == "pending").group_by(ApprovalRequest.partnership_id).subquery())
    attention = case((pending.c.request.is_not(None), 0), (PortfolioReviewResult.blocking > 0, 1),
                     (func.json_array_length(PortfolioReviewResult.alerts) > 0, 2), else_=3)
    base = _within(select(PortfolioReviewResult, pending.c.request, PartnershipRow.stage)
                   .outerjoin(pending, pending.c.partnership_id == PortfolioReviewResult.partnership_id)
                   .join(PartnershipRow, PartnershipRow.id == PortfolioReviewResult.partnership_id)
                   .where(PortfolioReviewResult.review_id == review.id), wanted, mission)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(attention, PortfolioReviewResult.days_in_stage.desc(),
                                         PortfolioReviewResult.partnership_id).offset(offset).limit(limit)).all()
    ids = [r.partnership_id for r, _, _ in rows]
    cleared = _cleared(session, review, ids)
    trail = trends.marks(session, trends.recent(session, review, trends.MARKS), ids)
    return [_row(r, request, stage_now, cleared.get(r.partnership_id, []), trail[r.partnership_id], findings)
            for r, request, stage_now in rows], total


def _row(r: PortfolioReviewResult, request: int | None, stage_now: str, cleared: list[str],
         marks: list[dict[str, Any]], findings: bool) -> dict[str, Any]:
    """One partnership as the review found it. ``days_in_stage`` is the review's raw difference:
    negative when the partnership entered its stage after the review's date (never shown as an age)."""
    return {"id": r.partnership_id, "name": r.name, "mission": r.mission, "stage": r.stage,
            "days_in_stage": r.days_in_stage, "blocking": r.blocking, "alerts": r.alerts,
            "new_alerts": r.new_alerts, "cleared": cleared, "request": request, "gate": r.verdict["gate"],
            "moved_since": stage_now != r.stage, "stage_now": stage_now, "marks": marks,
            "findings": r.verdict["findings"] if findings else None}


def _cleared(session, review: PortfolioReview, ids: list[str]) -> dict[str, list[str]]:
    """The alerts each partnership cleared since the previous review of the same scope, by name."""
    if not ids:
        return {}
    found = review_results.cleared_since_previous(
        session, review, lambda query: query.where(PortfolioReviewResult.partnership_id.in_(ids)))
    return {pid: [a["alert"] for a in gone] for pid, gone in found}


def _missions(session, review: PortfolioReview, wanted: Scope) -> list[str]:
    query = _within(select(PortfolioReviewResult.mission).where(PortfolioReviewResult.review_id == review.id).distinct(), wanted, None)
    return sorted(session.scalars(query), key=str.casefold)


def _closed(session, wanted: Scope, mission: str | None, limit: int) -> dict[str, Any]:
    """The closed partnerships in scope now (a review skips them), counted and the first ``limit``
    named: so that the portfolio is whole."""
    query = select(PartnershipRow.id, PartnershipRow.name).where(PartnershipRow.stage == "closed")
    if mission:
        query = query.where(func.lower(PartnershipRow.mission) == mission.casefold())
    if not wanted.everything:
        query = query.where(func.lower(PartnershipRow.mission).in_(wanted.missions))
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    named = session.execute(query.order_by(PartnershipRow.name, PartnershipRow.id).limit(limit)).all()
    return {"closed": count or 0, "closed_named": [{"id": pid, "name": name} for pid, name in named]}
