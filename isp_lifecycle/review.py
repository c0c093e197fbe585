"""The portfolio review: every partnership not closed (of one mission), as of a date.

For each partnership the review evaluates the gate of its current stage (readiness to move
on) and raises the health alerts of ``docs/spec/gates.md``; it records both, updates the
standing alerts, and queues the notifications:

    health-alert   one per partnership with NEW alerts, to its leaders (its director when it
                   has none); an alert (same alert, same subject) is new when it was not
                   raised by the previous review, or cleared since
    review-digest  one per mission director per review, listing every current alert of the
                   director's partnerships (queued once all chunks are in)

A review is identified by ``as_of`` and ``mission``. Its partnerships are cut into chunks of at
most ``CHUNK_SIZE`` when it starts (id ranges, fixed in ``review_chunks``); each chunk is read as
a stream and written in ONE transaction, which also marks the chunk done. So a chunk is either
wholly recorded or not at all, running the review again does only the chunks not done, and a
complete review run again records nothing and queues nothing.

    start_review(store, as_of, mission)  -> ReviewPlan     the review and its pending chunks
    review_chunk(store, review_id, seq)  -> ChunkOutcome   one chunk, one transaction
    finish_review(store, review_id)      -> ReviewSummary  digests and status, once all chunks are in
    run_review(store, as_of, mission)    -> ReviewSummary  all three, in this process
    results(store, review_id)            -> the ``isp review --format json`` objects, ordered by id

Standing alerts follow the order in which reviews are run (run them in date order).
Nothing here imports Prefect: ``flows/review.py`` orchestrates these same functions.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import lifecycle, outbox
from .document import validate
from .errors import UsageError
from .facts import happened as _happened
from .gates import GateChecker
from .model import Partnership
from .store import Store, audit
from .store.models import (
    ApprovalRequest,
    DocumentVersion,
    PartnershipRow,
    Review,
    ReviewChunk,
    ReviewResult,
    StandingAlert,
)

log = logging.getLogger("isp_lifecycle.review")

CHUNK_SIZE = 500
READ_BATCH = 100
ALERTS = ("approval-pending", "commitment-expiring", "milestone-overdue", "review-overdue", "stage-overdue")
STAGE_LIMITS = {"convene": 180, "commit": 180, "implement": 365}  # days in stage before stage-overdue
REVIEW_INTERVAL = 365  # days without a review before review-overdue (implement, review)
ALL_MISSIONS = ""  # the ``mission`` of a review of every mission

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    from .services import utcnow

    return utcnow()


def worker_identity() -> str:
    """Which process recorded a chunk, and the process that started it (a Prefect worker, when
    chunks are shared between machines): ``host pid N parent M``."""
    return f"{socket.gethostname()} pid {os.getpid()} parent {os.getppid()}"


@functools.lru_cache(maxsize=1)
def default_checker() -> GateChecker:
    return GateChecker()


# ------------------------------------------------------------------ the alerts themselves

def _alert(name: str, subject: str, message: str) -> dict[str, str]:
    return {"alert": name, "subject": subject, "message": message}


@dataclass(frozen=True)
class PendingApproval:
    """What ``approval-pending`` needs of an approval request."""

    id: int
    requested_at: datetime
    from_stage: str
    to_stage: str


def health_alerts(
    doc: Partnership,
    as_of: date,
    facts: dict[str, Any],
    pending: Iterable[PendingApproval] = (),
    remind: int = 7,
) -> list[dict[str, str]]:
    """The health alerts of ``doc`` as of ``as_of`` (gates.md, Health alerts), ordered by alert name.

    ``facts`` is the facts projection of ``doc`` as of ``as_of`` (``GateChecker.facts``): the
    milestone and commitment alerts read the very lists the implement gate's rules report, so
    an alert and a finding can never disagree about a date.
    """
    alerts: list[dict[str, str]] = []
    entered = doc.entered
    in_stage = (as_of - entered).days
    limit = STAGE_LIMITS.get(doc.stage)
    if limit is not None and in_stage > limit:
        alerts.append(_alert("stage-overdue", "stage",
                             f"In {doc.stage} for {in_stage} days (since {entered.isoformat()}); "
                             f"more than {limit} days calls for moving on or rethinking."))
    if doc.stage in ("implement", "review"):
        reviewed = [r.date for r in doc.reviews if _happened(r.date, as_of)]
        since = max([entered, *reviewed])
        gap = (as_of - since).days
        if gap > REVIEW_INTERVAL:
            last = f"the last review was on {max(reviewed).isoformat()}" if reviewed else "no review yet"
            alerts.append(_alert("review-overdue", "reviews",
                                 f"{gap} days without a review ({last}); review at least every {REVIEW_INTERVAL} days."))
    for m in facts["milestones_overdue"]:
        alerts.append(_alert("milestone-overdue", m["subject"],
                             f"Milestone '{m['name']}' of '{m['initiative']}' was due {m['due']} "
                             f"and is not done ({m['days']} days late)."))
    for p in facts["partners_with_expiring_commitment"]:
        when = "ended" if p["ended"] else "ends"
        alerts.append(_alert("commitment-expiring", p["subject"],
                             f"The commitment of '{p['name']}' {when} on {p['until']}: renew it or plan the exit."))
    for request in pending:
        age = (as_of - request.requested_at.date()).days
        if age > remind:
            alerts.append(_alert("approval-pending", f"approval_requests.{request.id}",
                                 f"The approval to move {request.from_stage} → {request.to_stage} was requested "
                                 f"{age} days ago ({request.requested_at.date().isoformat()}) and is still undecided."))
    alerts.sort(key=lambda a: a["alert"])  # stable: within one alert, the order above
    return alerts


def assess(
    doc: Partnership,
    as_of: date,
    pending: Iterable[PendingApproval] = (),
    *,
    checker: GateChecker | None = None,
    remind: int = 7,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One partnership: (the verdict JSON of its current stage's gate, its health alerts)."""
    checker = checker or default_checker()
    facts = checker.facts(doc, as_of)
    verdict = checker.evaluate(doc, doc.stage, as_of, facts=facts)
    return verdict.to_json(), health_alerts(doc, as_of, facts, pending, remind)


# ------------------------------------------------------------------ planning

@dataclass(frozen=True)
class ReviewPlan:
    review_id: int
    as_of: date
    mission: str | None
    status: str
    chunks: int
    pending: tuple[int, ...]  # seqs of the chunks not done yet


def _mission_key(mission: str | None) -> str:
    return mission or ALL_MISSIONS


def _plan_of(session: Session, review: Review) -> ReviewPlan:
    chunks = session.execute(
        select(ReviewChunk.seq, ReviewChunk.done_at).where(ReviewChunk.review_id == review.id).order_by(ReviewChunk.seq)
    ).all()
    return ReviewPlan(review.id, review.as_of, review.mission or None, review.status, len(chunks),
                      tuple(seq for seq, done in chunks if done is None))


def _find(session: Session, as_of: date, mission: str | None) -> Review | None:
    return session.scalars(
        select(Review).where(Review.as_of == as_of, Review.mission == _mission_key(mission))
    ).one_or_none()


def find_review(store: Store, as_of: date, mission: str | None = None) -> ReviewPlan | None:
    with store.sessions.begin() as session:
        review = _find(session, as_of, mission)
        return None if review is None else _plan_of(session, review)


def _eligible(query, mission: str | None):
    query = query.where(PartnershipRow.stage != "closed")
    return query.where(PartnershipRow.mission == mission) if mission else query


def start_review(
    store: Store,
    as_of: date,
    mission: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    checker: GateChecker | None = None,
    clock: Clock = _utcnow,
) -> ReviewPlan:
    """The review of ``as_of`` (and ``mission``): the recorded one, or a new one cut into chunks."""
    if not 1 <= chunk_size <= CHUNK_SIZE:
        raise UsageError(f"a review chunk holds 1 to {CHUNK_SIZE} partnerships, not {chunk_size}")
    checker = checker or default_checker()
    for attempt in (1, 2):
        try:
            with store.sessions.begin() as session:
                review = _find(session, as_of, mission)
                if review is not None:
                    return _plan_of(session, review)
                review = Review(as_of=as_of, mission=_mission_key(mission), status="running", chunk_size=chunk_size,
                                rules_digest=checker.pack.digest, started_at=clock())
                session.add(review)
                session.flush()
                ids = session.scalars(
                    _eligible(select(PartnershipRow.id), mission).order_by(PartnershipRow.id)
                    .execution_options(yield_per=1000)
                )
                bounds, after, count = [], "", 0
                for count, pid in enumerate(ids, 1):
                    if count % chunk_size == 0:
                        bounds.append((after, pid))
                        after = pid
                    last = pid
                if count % chunk_size:
                    bounds.append((after, last))
                if bounds:
                    session.execute(insert(ReviewChunk), [
                        {"review_id": review.id, "seq": seq, "after_id": a, "last_id": b}
                        for seq, (a, b) in enumerate(bounds)
                    ])
                log.info("review %s as of %s (%s): %d partnerships in %d chunks",
                         review.id, as_of, mission or "every mission", count, len(bounds))
                return _plan_of(session, review)
        except IntegrityError:  # another process started the same review meanwhile: use theirs
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ one chunk

@dataclass(frozen=True)
class ChunkOutcome:
    review_id: int
    seq: int
    reviewed: int
    alerts: int
    new_alerts: int
    already_done: bool = False


def _pending_approvals(session: Session, chunk: ReviewChunk, as_of: date) -> dict[str, list[PendingApproval]]:
    """Requests undecided as of ``as_of``: pending now, or decided only after ``as_of``."""
    after_as_of = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    rows = session.execute(
        select(ApprovalRequest.partnership_id, ApprovalRequest.id, ApprovalRequest.requested_at,
               ApprovalRequest.from_stage, ApprovalRequest.to_stage)
        .where(ApprovalRequest.partnership_id > chunk.after_id, ApprovalRequest.partnership_id <= chunk.last_id)
        .where((ApprovalRequest.status == "pending")
               | (ApprovalRequest.status.in_(("approved", "rejected")) & (ApprovalRequest.decided_at >= after_as_of)))
        .order_by(ApprovalRequest.id)
    ).all()
    out: dict[str, list[PendingApproval]] = {}
    for pid, *fields in rows:
        out.setdefault(pid, []).append(PendingApproval(*fields))
    return out


def _standing(session: Session, chunk: ReviewChunk) -> dict[str, dict[tuple[str, str], int]]:
    rows = session.execute(
        select(StandingAlert.partnership_id, StandingAlert.alert, StandingAlert.subject, StandingAlert.id)
        .where(StandingAlert.partnership_id > chunk.after_id, StandingAlert.partnership_id <= chunk.last_id,
               StandingAlert.cleared_at.is_(None))
    ).all()
    out: dict[str, dict[tuple[str, str], int]] = {}
    for pid, alert, subject, sid in rows:
        out.setdefault(pid, {})[(alert, subject)] = sid
    return out


def review_chunk(
    store: Store,
    review_id: int,
    seq: int,
    *,
    checker: GateChecker | None = None,
    clock: Clock = _utcnow,
) -> ChunkOutcome:
    """Review the partnerships of chunk ``seq`` in one transaction; a chunk already done is skipped."""
    from . import services

    checker = checker or default_checker()
    remind = lifecycle.remind_days()
    key = audit.load_key()
    with store.sessions.begin() as session:
        review = session.get(Review, review_id)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        chunk = session.scalars(
            select(ReviewChunk).where(ReviewChunk.review_id == review_id, ReviewChunk.seq == seq).with_for_update()
        ).one_or_none()
        if chunk is None:
            raise UsageError(f"review #{review_id} has no chunk {seq}")
        if chunk.done_at is not None:
            return ChunkOutcome(review_id, seq, 0, 0, 0, already_done=True)
        tx = services._Tx(session, key, "isp-review", clock())
        as_of, mission = review.as_of, review.mission or None
        pending = _pending_approvals(session, chunk, as_of)
        standing = _standing(session, chunk)

        query = _eligible(
            select(PartnershipRow.id, PartnershipRow.current_version, DocumentVersion.document)
            .join(DocumentVersion, and_(DocumentVersion.partnership_id == PartnershipRow.id,
                                        DocumentVersion.version == PartnershipRow.current_version))
            .outerjoin(ReviewResult, and_(ReviewResult.review_id == review_id,
                                          ReviewResult.partnership_id == PartnershipRow.id))
            .where(PartnershipRow.id > chunk.after_id, PartnershipRow.id <= chunk.last_id, ReviewResult.id.is_(None)),
            mission,
        ).order_by(PartnershipRow.id)
        results, messages = [], []
        new_standing, cleared, still = [], [], []
        for pid, version, text in session.execute(query.execution_options(yield_per=READ_BATCH)):
            doc = validate(json.loads(text), f"{pid} version {version}")
            verdict, alerts = assess(doc, as_of, pending.get(pid, ()), checker=checker, remind=remind)
            open_now = standing.get(pid, {})
            current = {(a["alert"], a["subject"]) for a in alerts}
            new = [a for a in alerts if (a["alert"], a["subject"]) not in open_now]
            new_standing += [{"partnership_id": pid, "alert": a["alert"], "subject": a["subject"],
                              "first_seen": as_of, "last_seen": as_of} for a in new]
            cleared += [sid for k, sid in open_now.items() if k not in current]
            still += [sid for k, sid in open_now.items() if k in current]
            results.append({
                "review_id": review_id, "partnership_id": pid, "document_version": version, "name": doc.name,
                "mission": doc.mission,
                "stage": doc.stage, "days_in_stage": (as_of - doc.entered).days,
                "director": doc.mission_director.email.lower() if doc.mission_director else None,
                "verdict": verdict, "alerts": alerts,
                "blocking": sum(1 for f in verdict["findings"] if f["severity"] == "blocking"), "new_alerts": new, "created_at": tx.now,
            })
            if new:
                messages.append((pid, outbox.for_event("health-alert", doc), {
                    "partnership": pid, "partnership_name": doc.name, "stage": doc.stage,
                    "as_of": as_of.isoformat(), "alerts": new}))
        if results:
            session.execute(insert(ReviewResult), results)
        if new_standing:
            session.execute(insert(StandingAlert), new_standing)
        if cleared:
            session.execute(update(StandingAlert), [{"id": sid, "cleared_at": as_of} for sid in cleared])
        if still:
            session.execute(update(StandingAlert), [{"id": sid, "last_seen": as_of} for sid in still])
        for pid, recipients, _ in messages:
            if not recipients:
                log.warning("%s has new alerts but neither leaders nor a mission director to tell", pid)
        tx.notify_many([outbox.Message("health-alert", f"review-{review_id}-{pid}", pid, recipients, payload)
                        for pid, recipients, payload in messages])
        chunk.done_at, chunk.done_by = tx.now, worker_identity()
        outcome = ChunkOutcome(review_id, seq, len(results), sum(len(r["alerts"]) for r in results), len(new_standing))
    log.info("review %s chunk %d: %d partnerships, %d alerts (%d new)",
             review_id, seq, outcome.reviewed, outcome.alerts, outcome.new_alerts)
    return outcome


# ------------------------------------------------------------------ finishing

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

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def to_json(self) -> dict[str, Any]:
        return {
            "review": self.review_id, "as_of": self.as_of.isoformat(), "mission": self.mission,
            "status": self.status, "chunks": self.chunks, "chunks_done": self.chunks_done,
            "reviewed": self.reviewed, "blocked": self.blocked, "alerts": self.alerts,
            "new_alerts": self.new_alerts, "by_stage": self.by_stage, "by_alert": self.by_alert, "error": self.error,
        }


def _stream_results(session: Session, review_id: int, *order):
    return session.execute(
        select(ReviewResult).where(ReviewResult.review_id == review_id)
        .order_by(*(order or (ReviewResult.partnership_id,))).execution_options(yield_per=READ_BATCH)
    ).scalars()


def _summary(session: Session, review: Review) -> ReviewSummary:
    plan = _plan_of(session, review)
    reviewed = blocked = alerts = new = 0
    by_stage: dict[str, int] = {}
    by_alert: dict[str, int] = {}
    for row in _stream_results(session, review.id):
        reviewed += 1
        blocked += not row.verdict["passed"]
        alerts += len(row.alerts)
        new += len(row.new_alerts)
        by_stage[row.stage] = by_stage.get(row.stage, 0) + 1
        for a in row.alerts:
            by_alert[a["alert"]] = by_alert.get(a["alert"], 0) + 1
        session.expunge(row)
    return ReviewSummary(review.id, review.as_of, review.mission or None, review.status, plan.chunks,
                         plan.chunks - len(plan.pending), reviewed, blocked, alerts, new,
                         dict(sorted(by_stage.items())), dict(sorted(by_alert.items())), review.error)


def _queue_digests(tx, review: Review) -> int:
    """One ``review-digest`` per director: each of the director's partnerships with its current
    alerts (payload as ``docs/notifications.md`` describes it)."""
    directors = 0
    director, entries, missions = None, [], set()
    digests: list[outbox.Message] = []

    def flush():
        if director is not None:
            digests.append(outbox.Message("review-digest", f"review-{review.id}", None, [director], {
                "mission": review.mission or ", ".join(sorted(missions)), "as_of": review.as_of.isoformat(),
                "partnerships": entries,
            }))
        if len(digests) >= CHUNK_SIZE:  # queued a batch at a time: memory stays bounded
            tx.notify_many(digests)
            digests.clear()

    for row in _stream_results(tx.session, review.id, ReviewResult.director, ReviewResult.partnership_id):
        if row.director is None:
            tx.session.expunge(row)
            continue
        if row.director != director:
            flush()
            directors += 1
            director, entries, missions = row.director, [], set()
        missions.add(row.mission)
        entries.append({"partnership": row.partnership_id, "partnership_name": row.name, "stage": row.stage,
                        "gate": row.verdict["gate"], "passed": row.verdict["passed"], "alerts": row.alerts})
        tx.session.expunge(row)
    flush()
    tx.notify_many(digests)
    return directors


def finish_review(store: Store, review_id: int, *, error: str | None = None, clock: Clock = _utcnow) -> ReviewSummary:
    """Complete the review if every chunk is in (queue the digests, audit it); else mark it incomplete."""
    from . import services

    with store.sessions.begin() as session:
        review = session.get(Review, review_id, with_for_update=True)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        if review.status != "complete":
            undone = _plan_of(session, review).pending
            if undone:
                review.status = "incomplete"
                review.error = error or f"{len(undone)} chunk(s) not done"
            else:
                tx = services._Tx(session, audit.load_key(), "isp-review", clock())
                directors = _queue_digests(tx, review)
                review.status, review.error, review.finished_at = "complete", None, tx.now
                session.flush()
                summary = _summary(session, review)
                tx.audit("review", None, {"review": review.id, "as_of": review.as_of.isoformat(),
                                          "mission": review.mission or None, "reviewed": summary.reviewed,
                                          "alerts": summary.alerts, "digests": directors,
                                          "rules_digest": review.rules_digest})
                return summary
        return _summary(session, review)


def run_review(
    store: Store,
    as_of: date,
    mission: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    checker: GateChecker | None = None,
    progress: Callable[[ChunkOutcome, ReviewPlan], None] | None = None,
    clock: Clock = _utcnow,
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


# ------------------------------------------------------------------ reading what a review found

def output_line(row: ReviewResult, as_of: date) -> dict[str, Any]:
    """One object of ``isp review --format json`` (docs/spec/cli.md)."""
    v = row.verdict
    return {"partnership": row.partnership_id, "stage": row.stage, "gate": v["gate"], "as_of": as_of.isoformat(),
            "passed": v["passed"], "findings": v["findings"], "alerts": row.alerts}


def overview(store: Store, review_id: int) -> Iterator[tuple[str, str, int, int, list[dict[str, str]]]]:
    """(partnership, stage, days in stage, blocking findings, alerts) per partnership, ordered by
    id: what a table of the review needs, without reading the verdicts."""
    with store.sessions.begin() as session:
        yield from session.execute(
            select(ReviewResult.partnership_id, ReviewResult.stage, ReviewResult.days_in_stage, ReviewResult.blocking,
                   ReviewResult.alerts)
            .where(ReviewResult.review_id == review_id).order_by(ReviewResult.partnership_id)
            .execution_options(yield_per=READ_BATCH)
        )


def results(store: Store, review_id: int) -> Iterator[ReviewResult]:
    """The recorded results of a review, ordered by partnership id, streamed."""
    with store.sessions.begin() as session:
        for row in _stream_results(session, review_id):
            session.expunge(row)
            yield row


def summary(store: Store, review_id: int) -> ReviewSummary:
    with store.sessions.begin() as session:
        review = session.get(Review, review_id)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        return _summary(session, review)
