"""Reading what portfolio reviews found: the API the CLI, the flow's artifacts and the report use.

Everything here reads; nothing records. An alert is *new* when the previous review of the same
mission scope (``previous_review``) did not raise it for that partnership, and *cleared* when
that review raised it and this one no longer does; with no previous review, nothing is called
either. A partnership that moved to its stage after the review's as-of date is recorded with a
negative ``days_in_stage`` (the raw as-of difference, which the pages read as that flag);
``ReviewedPartnership.moved_after_as_of`` says it in words, never as an age.

Rows come back as typed, detached objects (``ReviewedPartnership``, ``ReviewRecord``,
``ReviewSummary``), streamed in batches of ``READ_BATCH`` so that a review of many thousand
partnerships never sits in memory at once.

    find_review(store, as_of, mission)      -> ReviewPlan | None    the review of that date, if started
    summary(store, review_id)               -> ReviewSummary        counts by stage and by alert
    results(store, review_id)               -> ReviewedPartnership  per partnership, ordered by id
    previous_review(session, review)        -> PortfolioReview | None  what "new" and "cleared" count against
    cleared_since_previous(session, review) -> (partnership, alerts cleared) for those that cleared some
    overview(store, review_id)              -> (id, stage, days, blocking, alerts) per partnership
    output_line(result, as_of)              -> one object of ``isp review --format json``
    complete_reviews(store, as_of, mission) -> (ReviewRecord, the complete review before it | None)
    closed_partnerships(store, mission, n)  -> [(id, name)] of closed partnerships, by id
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session, aliased

from .errors import UsageError
from .store import Store
from .store.models import PartnershipRow, PortfolioReview, PortfolioReviewChunk, PortfolioReviewResult

READ_BATCH = 100
ALL_MISSIONS = ""  # the stored ``mission`` of a review of every mission


def mission_key(mission: str | None) -> str:
    """How a review's mission is stored: ``ALL_MISSIONS`` for every mission."""
    return mission or ALL_MISSIONS


@dataclass(frozen=True)
class ReviewPlan:
    review_id: int
    as_of: date
    mission: str | None
    status: str
    chunks: int
    pending: tuple[int, ...]  # seqs of the chunks not done yet
    started_at: datetime | None = None  # UTC, when it was first run
    finished_at: datetime | None = None  # UTC, when its last chunk and digests were in


@dataclass(frozen=True)
class ReviewRecord:
    """A recorded review, as the report names it."""

    review_id: int
    as_of: date
    mission: str | None
    rules_digest: str


@dataclass(frozen=True)
class ReviewedPartnership:
    """What one review found for one partnership."""

    partnership_id: str
    name: str
    mission: str
    stage: str
    days_in_stage: int
    director: str | None
    verdict: dict[str, Any]
    blocking: int
    alerts: list[dict[str, str]]
    new_alerts: list[dict[str, str]]  # not raised by the previous review of the same scope
    as_of: date | None = None
    stage_now: str | None = None  # the partnership's stage in the store when read
    cleared: list[dict[str, str]] = field(default_factory=list)  # raised by the previous review, no longer

    @property
    def moved_after_as_of(self) -> bool:
        """Its recorded move into ``stage`` is dated after the review's as-of date."""
        return self.days_in_stage < 0

    @property
    def stage_entered(self) -> date | None:
        return None if self.as_of is None else self.as_of - timedelta(days=self.days_in_stage)

    @property
    def moved_since(self) -> bool:
        """The partnership is in another stage now than when the review recorded it."""
        return self.stage_now is not None and self.stage_now != self.stage


@dataclass(frozen=True)
class ReviewSummary:
    review_id: int
    as_of: date
    mission: str | None
    status: str
    chunks: int
    chunks_done: int
    reviewed: int
    blocked: int
    alerts: int
    new_alerts: int
    by_stage: dict[str, int]
    by_alert: dict[str, int]
    error: str | None = None
    previous: date | None = None  # as-of date of the review new and cleared count against
    cleared: int = 0
    moved_after: int = 0  # partnerships that moved to their stage after ``as_of``
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def to_json(self) -> dict[str, Any]:
        return {
            "review": self.review_id, "as_of": self.as_of.isoformat(), "mission": self.mission,
            "status": self.status, "chunks": self.chunks, "chunks_done": self.chunks_done,
            "reviewed": self.reviewed, "blocked": self.blocked, "alerts": self.alerts,
            "new_alerts": self.new_alerts, "by_stage": self.by_stage, "by_alert": self.by_alert, "error": self.error,
            "previous": self.previous and self.previous.isoformat(), "cleared": self.cleared,
            "moved_after": self.moved_after,
        }


# ------------------------------------------------------------------ within a session (the review's own writes)

def plan_of(session: Session, review: PortfolioReview) -> ReviewPlan:
    chunks = session.execute(
        select(PortfolioReviewChunk.seq, PortfolioReviewChunk.done_at)
        .where(PortfolioReviewChunk.review_id == review.id).order_by(PortfolioReviewChunk.seq)
    ).all()
    return ReviewPlan(review.id, review.as_of, review.mission or None, review.status, len(chunks),
                      tuple(seq for seq, done in chunks if done is None), review.started_at, review.finished_at)


def find(session: Session, as_of: date, mission: str | None) -> PortfolioReview | None:
    return session.scalars(
        select(PortfolioReview).where(PortfolioReview.as_of == as_of, PortfolioReview.mission == mission_key(mission))
    ).one_or_none()


def previous_review(session: Session, review: PortfolioReview) -> PortfolioReview | None:
    """The review that "new" and "cleared" count against: the latest complete review of the same
    mission scope dated before ``review`` and finished before it started. The second condition
    makes the choice made while recording the one made when reading later, whatever runs after."""
    p = PortfolioReview
    query = select(p).where(p.mission == review.mission, p.as_of < review.as_of, p.status == "complete",
                            p.finished_at <= review.started_at)
    return session.scalars(query.order_by(p.as_of.desc(), p.id.desc()).limit(1)).first()


def _cleared(before: list | None, now: list) -> list[dict[str, str]]:
    """The alerts of ``before`` (the previous review's, for one partnership) that ``now`` no longer raises."""
    still = {(a["alert"], a["subject"]) for a in now}
    return [a for a in before or () if (a["alert"], a["subject"]) not in still]


def cleared_since_previous(session: Session, review: PortfolioReview,
                           narrow=lambda query: query) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(partnership, its alerts cleared since the previous review) for those of ``review``'s
    partnerships that cleared some: as ``stream_results`` says them, for the pages' counts.
    ``narrow`` narrows the query on ``PortfolioReviewResult`` (a reader's scope, some partnerships)."""
    previous = previous_review(session, review)
    if previous is None:
        return
    r, before = PortfolioReviewResult, aliased(PortfolioReviewResult)
    query = narrow(select(r.partnership_id, r.alerts, before.alerts)
                   .join(before, and_(before.review_id == previous.id, before.partnership_id == r.partnership_id))
                   .where(r.review_id == review.id, func.json_array_length(before.alerts) > 0))
    for pid, now, was in session.execute(query.execution_options(yield_per=READ_BATCH)):
        gone = _cleared(was, now)
        if gone:
            yield pid, gone


def _reviewed(row: PortfolioReviewResult, as_of: date, stage_now: str | None,
              before: list | None) -> ReviewedPartnership:
    cleared = _cleared(before, row.alerts)
    return ReviewedPartnership(row.partnership_id, row.name, row.mission, row.stage, row.days_in_stage, row.director,
                               row.verdict, row.blocking, row.alerts, row.new_alerts, as_of, stage_now, cleared)


def stream_results(session: Session, review_id: int, *, by_director: bool = False) -> Iterator[ReviewedPartnership]:
    """A review's results ordered by partnership id (or by director, then id), never all in memory,
    each with the partnership's stage now and the alerts cleared since the previous review."""
    review = session.get(PortfolioReview, review_id)
    if review is None:
        return
    previous = previous_review(session, review)
    r, before = PortfolioReviewResult, aliased(PortfolioReviewResult)
    query = (select(r, PartnershipRow.stage, before.alerts if previous else literal(None))
             .outerjoin(PartnershipRow, PartnershipRow.id == r.partnership_id))
    if previous is not None:
        query = query.outerjoin(before, and_(before.review_id == previous.id,
                                             before.partnership_id == r.partnership_id))
    order = (r.director, r.partnership_id) if by_director else (r.partnership_id,)
    query = query.where(r.review_id == review_id).order_by(*order)
    rows = session.execute(query.execution_options(yield_per=READ_BATCH))
    for row, stage_now, before_alerts in rows:
        found = _reviewed(row, review.as_of, stage_now, before_alerts)
        session.expunge(row)
        yield found


def summarize(session: Session, review: PortfolioReview) -> ReviewSummary:
    plan = plan_of(session, review)
    previous = previous_review(session, review)
    reviewed = blocked = alerts = new = cleared = moved = 0
    by_stage: dict[str, int] = {}
    by_alert: dict[str, int] = {}
    for row in stream_results(session, review.id):
        reviewed += 1
        blocked += not row.verdict["passed"]
        alerts += len(row.alerts)
        new += len(row.new_alerts)
        cleared += len(row.cleared)
        moved += row.moved_after_as_of
        by_stage[row.stage] = by_stage.get(row.stage, 0) + 1
        for a in row.alerts:
            by_alert[a["alert"]] = by_alert.get(a["alert"], 0) + 1
    return ReviewSummary(review.id, review.as_of, review.mission or None, review.status, plan.chunks,
                         plan.chunks - len(plan.pending), reviewed, blocked, alerts, new,
                         dict(sorted(by_stage.items())), dict(sorted(by_alert.items())), review.error,
                         previous and previous.as_of, cleared, moved, review.started_at, review.finished_at)


# ------------------------------------------------------------------ the public reading API

def find_review(store: Store, as_of: date, mission: str | None = None) -> ReviewPlan | None:
    with store.sessions.begin() as session:
        review = find(session, as_of, mission)
        return None if review is None else plan_of(session, review)


def summary(store: Store, review_id: int) -> ReviewSummary:
    with store.sessions.begin() as session:
        review = session.get(PortfolioReview, review_id)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        return summarize(session, review)


def results(store: Store, review_id: int) -> Iterator[ReviewedPartnership]:
    """The recorded results of a review, ordered by partnership id, streamed."""
    with store.sessions.begin() as session:
        yield from stream_results(session, review_id)


def overview(store: Store, review_id: int) -> Iterator[tuple[str, str, int, int, list[dict[str, str]]]]:
    """(partnership, stage, days in stage, blocking findings, alerts) per partnership, ordered by
    id: what a table of the review needs, without reading the verdicts."""
    r = PortfolioReviewResult
    with store.sessions.begin() as session:
        yield from session.execute(
            select(r.partnership_id, r.stage, r.days_in_stage, r.blocking, r.alerts)
            .where(r.review_id == review_id).order_by(r.partnership_id).execution_options(yield_per=READ_BATCH)
        )


def output_line(row: ReviewedPartnership, as_of: date) -> dict[str, Any]:
    """One object of ``isp review --format json`` (docs/spec/cli.md)."""
    v = row.verdict
    return {"partnership": row.partnership_id, "stage": row.stage, "gate": v["gate"], "as_of": as_of.isoformat(),
            "passed": v["passed"], "findings": v["findings"], "alerts": row.alerts}


def _record(review: PortfolioReview | None) -> ReviewRecord | None:
    return None if review is None else ReviewRecord(review.id, review.as_of, review.mission or None,
                                                    review.rules_digest)


def complete_reviews(store: Store, as_of: date | None, mission: str | None) -> tuple[ReviewRecord, ReviewRecord | None]:
    """The complete review of ``as_of`` (default: the latest) and the complete one before it, for
    the trend. No such review is bad usage: the user runs ``isp review`` first."""
    done = select(PortfolioReview).where(PortfolioReview.mission == mission_key(mission),
                                         PortfolioReview.status == "complete")
    latest_first = PortfolioReview.as_of.desc()
    with store.sessions.begin() as session:
        if as_of is None:
            review = session.scalars(done.order_by(latest_first).limit(1)).first()
        else:
            review = session.scalars(done.where(PortfolioReview.as_of == as_of)).first()
        if review is None:
            when = f" as of {as_of.isoformat()}" if as_of else ""
            raise UsageError(f"no complete review{when} of {mission or 'every mission'} in the store; "
                             "run `isp review` first")
        previous = session.scalars(done.where(PortfolioReview.as_of < review.as_of).order_by(latest_first).limit(1))
        return _record(review), _record(previous.first())


def closed_partnerships(store: Store, mission: str | None, limit: int) -> list[tuple[str, str]]:
    """(id, name) of the closed partnerships (of ``mission``), by id, at most ``limit``."""
    query = select(PartnershipRow.id, PartnershipRow.name).where(PartnershipRow.stage == "closed")
    if mission:
        query = query.where(PartnershipRow.mission == mission)
    with store.sessions.begin() as session:
        return [tuple(row) for row in session.execute(query.order_by(PartnershipRow.id).limit(limit))]
