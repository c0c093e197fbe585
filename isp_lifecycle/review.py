"""The portfolio review run: every partnership not closed (of one mission), as of a date.

For each partnership the review evaluates the gate of its current stage (readiness to move
on) and raises the health alerts of ``docs/spec/gates.md`` (``isp_lifecycle.health``); it
records both, updates the standing alerts, and queues the notifications:

    health-alert   one per partnership with alerts not standing, to its leaders (its director
                   when it has none); an alert (same alert, same subject) stands from the
                   review that first raised it until one that no longer does
    review-digest  one per mission director per review, listing every current alert of the
                   director's partnerships (queued once all chunks are in)

A review is identified by ``as_of`` and ``mission``. Its partnerships are cut into chunks of at
most ``CHUNK_SIZE`` when it starts (id ranges, fixed in ``review_chunks``); each chunk is read as
a stream and written in ONE transaction, which also marks the chunk done. So a chunk is either
wholly recorded or not at all, running the review again does only the chunks not done, and a
complete review run again records nothing and queues nothing. Each result records as new the
alerts that the previous review of the same scope (``review_results.previous_review``) did not
raise, and nothing as new when there is no such review.

    start_review(store, as_of, mission)  -> ReviewPlan     the review and its pending chunks
    review_chunk(store, review_id, seq)  -> ChunkOutcome   one chunk, one transaction
    finish_review(store, review_id)      -> ReviewSummary  digests and status, once all chunks are in
    run_review(store, as_of, mission)    -> ReviewSummary  all three, in this process

What a review found is read with ``isp_lifecycle.review_results``. Standing alerts follow the
order in which reviews are run (run them in date order). Nothing here imports Prefect:
``flows/review.py`` orchestrates these same functions.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from . import assessments, health, lifecycle, outbox
from .assessments_view import concerns_for
from .errors import UsageError
from .gates import GateChecker
from .review_chunks import ChunkReader, ChunkWriter
from .review_results import (
    ReviewPlan,
    ReviewSummary,
    find,
    mission_key,
    plan_of,
    stream_results,
    summarize,
)
from .store import Store, audit
from .store.models import PartnershipRow, PortfolioReview, PortfolioReviewChunk
from .uow import Clock, UnitOfWork, utcnow

log = logging.getLogger("isp_lifecycle.review")

CHUNK_SIZE = 500

def worker_identity() -> str:
    """Which process recorded a chunk, and the process that started it (a Prefect worker, when
    chunks are shared between machines): ``host pid N parent M``."""
    return f"{socket.gethostname()} pid {os.getpid()} parent {os.getppid()}"


# ------------------------------------------------------------------ planning

def eligible(query, mission: str | None):
    """Only partnerships a review looks at: not closed, of ``mission`` when one is given."""
    query = query.where(PartnershipRow.stage != "closed")
    return query.where(PartnershipRow.mission == mission) if mission else query


def _chunk_bounds(ids, chunk_size: int) -> tuple[list[tuple[str, str]], int]:
    """(after_id, last_id] ranges of at most ``chunk_size`` ids, from ids in ascending order."""
    bounds, after, count, last = [], "", 0, ""
    for count, pid in enumerate(ids, 1):
        if count % chunk_size == 0:
            bounds.append((after, pid))
            after = pid
        last = pid
    if count % chunk_size:
        bounds.append((after, last))
    return bounds, count


def _plan_new(store: Store, as_of: date, mission: str | None, chunk_size: int, digest: str, clock: Clock) -> ReviewPlan:
    with store.sessions.begin() as session:
        review = find(session, as_of, mission)
        if review is not None:
            return plan_of(session, review)
        review = PortfolioReview(as_of=as_of, mission=mission_key(mission), status="running", chunk_size=chunk_size,
                                 rules_digest=digest, started_at=clock())
        session.add(review)
        session.flush()
        ids = session.scalars(eligible(select(PartnershipRow.id), mission).order_by(PartnershipRow.id)
                              .execution_options(yield_per=1000))
        bounds, count = _chunk_bounds(ids, chunk_size)
        if bounds:
            session.execute(insert(PortfolioReviewChunk), [
                {"review_id": review.id, "seq": seq, "after_id": a, "last_id": b} for seq, (a, b) in enumerate(bounds)
            ])
        log.info("review %s as of %s (%s): %d partnerships in %d chunks",
                 review.id, as_of, mission or "every mission", count, len(bounds))
        return plan_of(session, review)


def start_review(
    store: Store,
    as_of: date,
    mission: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    checker: GateChecker | None = None,
    clock: Clock = utcnow,
) -> ReviewPlan:
    """The review of ``as_of`` (and ``mission``): the recorded one, or a new one cut into chunks."""
    if not 1 <= chunk_size <= CHUNK_SIZE:
        raise UsageError(f"a review chunk holds 1 to {CHUNK_SIZE} partnerships, not {chunk_size}")
    digest = (checker or health.default_checker()).pack.digest
    try:
        return _plan_new(store, as_of, mission, chunk_size, digest, clock)
    except IntegrityError:  # another process started the same review meanwhile: use theirs
        return _plan_new(store, as_of, mission, chunk_size, digest, clock)


# ------------------------------------------------------------------ one chunk

@dataclass(frozen=True)
class ChunkOutcome:
    review_id: int
    seq: int
    reviewed: int
    alerts: int
    new_alerts: int  # not raised by the previous review of the same scope
    already_done: bool = False


def review_chunk(
    store: Store,
    review_id: int,
    seq: int,
    *,
    checker: GateChecker | None = None,
    clock: Clock = utcnow,
) -> ChunkOutcome:
    """Review the partnerships of chunk ``seq`` in one transaction; a chunk already done is skipped."""
    checker = checker or health.default_checker()
    remind = lifecycle.remind_days()
    key = audit.load_key()
    with store.sessions.begin() as session:
        reader = ChunkReader.open(session, review_id, seq)
        if reader.chunk.done_at is not None:
            return ChunkOutcome(review_id, seq, 0, 0, 0, already_done=True)
        tx = UnitOfWork(session, key, "isp-review", clock())
        writer = ChunkWriter(review_id, reader.review.as_of, tx.now)
        partners = concerns_for(session, reader.chunk.after_id, reader.chunk.last_id, reader.review.as_of)
        for pid, version, doc in reader.documents(eligible):
            verdict, alerts = health.assess(doc, reader.review.as_of, reader.pending.get(pid, ()),
                                            checker=checker, remind=remind, partners=partners.get(pid))
            writer.add(pid, version, doc, verdict, alerts, reader.standing.get(pid, {}), reader.before(pid))
        writer.write(session)
        tx.notify_many(writer.messages(review_id, log))
        reader.chunk.done_at, reader.chunk.done_by = tx.now, worker_identity()
        outcome = ChunkOutcome(review_id, seq, len(writer.results), writer.alert_count, writer.new_count)
    log.info("review %s chunk %d: %d partnerships, %d alerts (%d new since the previous review)",
             review_id, seq, outcome.reviewed, outcome.alerts, outcome.new_alerts)
    return outcome


# ------------------------------------------------------------------ finishing

def _digest(review: PortfolioReview, director: str, entries: list, mission: str) -> outbox.Message:
    return outbox.Message("review-digest", f"review-{review.id}", None, [director], {
        "mission": mission, "as_of": review.as_of.isoformat(), "partnerships": entries,
    })


def _queue_digests(tx, review: PortfolioReview) -> int:
    """One ``review-digest`` per director and mission (``gates.md``: each review, one per as-of
    date and mission, sends the director one digest): each of the director's partnerships of
    that mission with its current alerts (payload as ``docs/notifications.md`` describes it),
    queued a batch at a time so that memory stays bounded. Returns how many were queued."""
    queued = 0
    director, by_mission = None, {}
    digests: list[outbox.Message] = []

    def flush_director() -> None:
        nonlocal queued
        for mission in sorted(by_mission):
            digests.append(_digest(review, director, by_mission[mission], mission))
            queued += 1
        if len(digests) >= CHUNK_SIZE:
            tx.notify_many(digests)
            digests.clear()

    for row in stream_results(tx.session, review.id, by_director=True):
        if row.director is None:
            continue
        if row.director != director:
            if director is not None:
                flush_director()
            director, by_mission = row.director, {}
        by_mission.setdefault(row.mission, []).append(
            {"partnership": row.partnership_id, "partnership_name": row.name, "stage": row.stage,
             "gate": row.verdict["gate"], "passed": row.verdict["passed"], "alerts": row.alerts})
    if director is not None:
        flush_director()
    tx.notify_many(digests)
    return queued


def _complete(session, review: PortfolioReview, clock: Clock) -> ReviewSummary:
    """Every chunk is in: queue the digests, mark the review complete and audit it, at once."""
    tx = UnitOfWork(session, audit.load_key(), "isp-review", clock())
    digests = _queue_digests(tx, review)
    assessments.invite(tx, review)  # partners' self-assessment, when ISP_ASSESSMENTS=1 (docs/assessments.md)
    review.status, review.error, review.finished_at = "complete", None, tx.now
    session.flush()
    summary = summarize(session, review)
    tx.audit("review", None, {"review": review.id, "as_of": review.as_of.isoformat(),
                              "mission": review.mission or None, "reviewed": summary.reviewed,
                              "alerts": summary.alerts, "digests": digests, "rules_digest": review.rules_digest})
    return summary


def finish_review(store: Store, review_id: int, *, error: str | None = None, clock: Clock = utcnow) -> ReviewSummary:
    """Complete the review if every chunk is in (queue the digests, audit it); else mark it incomplete."""
    with store.sessions.begin() as session:
        review = session.get(PortfolioReview, review_id, with_for_update=True)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        if review.status != "complete":
            undone = plan_of(session, review).pending
            if not undone:
                return _complete(session, review, clock)
            review.status = "incomplete"
            review.error = error or f"{len(undone)} chunk(s) not done"
        return summarize(session, review)


def run_review(
    store: Store,
    as_of: date,
    mission: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    checker: GateChecker | None = None,
    progress: Callable[[ChunkOutcome, ReviewPlan], None] | None = None,
    clock: Clock = utcnow,
) -> ReviewSummary:
    """The whole review in this process. A failing chunk is logged and the others still run;
    the review is then ``incomplete`` and running it again does the chunks that failed."""
    plan = start_review(store, as_of, mission, chunk_size=chunk_size, checker=checker, clock=clock)
    first_error = None
    for seq in plan.pending:
        try:
            outcome = review_chunk(store, plan.review_id, seq, checker=checker, clock=clock)
        except Exception as exc:  # recorded as incomplete; the traceback goes to the log
            log.error("review %s %s", plan.review_id, describe_failure(seq, exc))
            log.debug("chunk %d failed here", seq, exc_info=True)
            first_error = first_error or describe_failure(seq, exc)
            continue
        if progress:
            progress(outcome, plan)
    return finish_review(store, plan.review_id, error=first_error, clock=clock)


def describe_failure(seq: int, exc: BaseException) -> str:
    """One line about a failed chunk (a database error's SQL and parameters left out)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"chunk {seq}: {type(exc).__name__}: {text.splitlines()[0] if text else 'no detail'}"

