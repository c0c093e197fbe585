"""The scheduled portfolio review as a Prefect flow: a thin shell around ``isp_lifecycle.review``.

    portfolio_review(as_of, mission, chunk_size)   plan → one task per chunk → finish → artifacts
    review_chunk_flow(review_id, seq)              one chunk, for workers (see ISP_WORK_POOL)
    review_deployment(cron=None)                   the weekly deployment ``isp serve`` serves
    chunk_deployment(work_pool)                    the chunk deployment workers pick up

The store is the record: every chunk commits its results and marks itself done in one
transaction, so a retried task, a re-run flow or two workers on one chunk record nothing twice.
Tasks retry only errors that can pass (the database or the network going away), never a bug.

With ``ISP_WORK_POOL`` set, chunks run as flow runs of the ``review-chunk/review-chunk``
deployment in that pool (``run_deployment``), so workers on several machines share them
(``docs/review.md``); otherwise they run in this flow's process, one task per chunk.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from ._prefect import configure

configure()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402

from isp_lifecycle import review, review_results  # noqa: E402
from isp_lifecycle.errors import ReviewIncomplete  # noqa: E402
from isp_lifecycle.store import Store  # noqa: E402

DEFAULT_CRON = "0 6 * * 1"  # Mondays 06:00 UTC
CHUNK_DEPLOYMENT = "review-chunk/review-chunk"
REVIEW_DEPLOYMENT_NAME = "weekly-review"

# In-process observers of finished chunks (the CLI's progress bar); nothing is sent through Prefect.
chunk_listeners: list[Callable[[review.ChunkOutcome, review_results.ReviewPlan], None]] = []

_stores: dict[str, Store] = {}


def _store() -> Store:
    """One open store per database URL and process: opening checks the schema, done once."""
    from isp_lifecycle.store import database_url

    url = database_url()
    if url not in _stores:
        _stores[url] = Store.open(url)
    return _stores[url]


_PASSING = re.compile(r"database is locked|could not connect|connection|server closed|timed? ?out|terminating", re.I)


def _transient(exc: BaseException | None) -> bool:
    """The database or the network went away for a while; not a wrong query or a bug."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or (isinstance(exc, OperationalError) and bool(_PASSING.search(str(exc.orig))))
    return isinstance(exc, (ConnectionError, TimeoutError))


def _retry_io(_task, _run, state) -> bool:
    """Retry a task only when it failed on I/O that can pass; a bug fails at once."""
    return _transient(state.data if isinstance(state.data, BaseException) else None)


io_task = task(retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_retry_io)


@io_task
def plan_review(as_of: date, mission: str | None, chunk_size: int) -> review_results.ReviewPlan:
    return review.start_review(_store(), as_of, mission, chunk_size=chunk_size)


@io_task
def review_chunk(review_id: int, seq: int) -> review.ChunkOutcome:
    return review.review_chunk(_store(), review_id, seq)


@io_task
def finish_review(review_id: int, error: str | None = None) -> review_results.ReviewSummary:
    return review.finish_review(_store(), review_id, error=error)


@flow(name="review-chunk", log_prints=False)
def review_chunk_flow(review_id: int, seq: int) -> dict[str, Any]:
    """One chunk of a review, for workers: what ``portfolio_review`` fans out with a work pool."""
    outcome = review_chunk(review_id, seq)
    get_run_logger().info("review %s chunk %d: %d partnerships, %d alerts (%d new since the previous review)%s",
                          review_id, seq, outcome.reviewed, outcome.alerts, outcome.new_alerts,
                          " (already done)" if outcome.already_done else "")
    return {"seq": seq, "reviewed": outcome.reviewed, "host": os.uname().nodename, "pid": os.getpid()}


def _run_here(plan: review_results.ReviewPlan, logger) -> str | None:
    first_error = None
    for n, seq in enumerate(plan.pending, 1):
        try:
            outcome = review_chunk(plan.review_id, seq)
        except Exception as exc:  # the review is then incomplete; a re-run does this chunk
            first_error = first_error or review.describe_failure(seq, exc)
            logger.error("%s", review.describe_failure(seq, exc))
            continue
        logger.info("chunk %d/%d: %d partnerships, %d alerts (%d new since the previous review)",
                    n, len(plan.pending), outcome.reviewed, outcome.alerts, outcome.new_alerts)
        for listener in chunk_listeners:
            listener(outcome, plan)
    return first_error


def _fan_out(plan: review_results.ReviewPlan, pool: str, logger) -> str | None:
    """Chunks as flow runs of the chunk deployment, picked up by the pool's workers."""
    from prefect.client.orchestration import get_client
    from prefect.context import get_run_context
    from prefect.deployments import run_deployment

    parent = get_run_context().flow_run.id
    runs = {
        seq: run_deployment(CHUNK_DEPLOYMENT, parameters={"review_id": plan.review_id, "seq": seq}, timeout=0,
                            idempotency_key=f"review-{plan.review_id}-chunk-{seq}-{parent}",
                            flow_run_name=f"review-{plan.review_id}-chunk-{seq}")
        for seq in plan.pending
    }
    logger.info("%d chunks sent to work pool %s", len(runs), pool)
    first_error, waiting = None, dict(runs)
    with get_client(sync_client=True) as client:
        while waiting:
            time.sleep(1)
            for seq, run in list(waiting.items()):
                state = client.read_flow_run(run.id).state
                if state is None or not state.is_final():
                    continue
                del waiting[seq]
                if state.is_completed():
                    logger.info("chunk %d done (%d left)", seq, len(waiting))
                else:
                    first_error = first_error or f"chunk {seq}: flow run {run.id} {state.name}"
                    logger.error("chunk %d: flow run %s ended %s", seq, run.id, state.name)
    return first_error


def _age(days: int, as_of: date) -> int | str:
    """Days in stage; a move dated after the review's as-of date in words, never a negative age."""
    return days if days >= 0 else f"moved here after {as_of}"


def _compared(summary: review_results.ReviewSummary) -> str:
    if summary.previous is None:
        return f"**{summary.alerts}** alerts (no earlier review of this scope to compare with)"
    return (f"**{summary.alerts}** alerts, **{summary.new_alerts}** new and **{summary.cleared}** cleared "
            f"since the review as of {summary.previous}")


def _artifacts(summary: review_results.ReviewSummary) -> None:
    table = [{"partnership": pid, "stage": stage, "days in stage": _age(days, summary.as_of),
              "verdict": f"blocked ({blocking})" if blocking else "passed",
              "alerts": ", ".join(a["alert"] for a in alerts) or "-"}
             for pid, stage, days, blocking, alerts in review_results.overview(_store(), summary.review_id)]
    scope = summary.mission or "every mission"
    create_table_artifact(table, key="portfolio-review-table",
                          description=f"Partnerships reviewed as of {summary.as_of} ({scope})")
    lines = [f"# Portfolio review as of {summary.as_of} ({scope})", "",
             f"- **{summary.reviewed}** partnerships reviewed, **{summary.blocked}** not ready to leave their stage",
             f"- {_compared(summary)}",
             f"- status: **{summary.status}**" + (f" — {summary.error}" if summary.error else ""), "",
             "| stage | partnerships |", "|---|---|"]
    lines += [f"| {stage} | {n} |" for stage, n in summary.by_stage.items()]
    lines += ["", "| alert | raised |", "|---|---|"]
    lines += [f"| {name} | {n} |" for name, n in summary.by_alert.items()] or ["| none | 0 |"]
    create_markdown_artifact("\n".join(lines), key="portfolio-review-summary",
                             description=f"Portfolio review as of {summary.as_of}")


@flow(name="portfolio-review", log_prints=False)
def portfolio_review(as_of: date | None = None, mission: str | None = None,
                     chunk_size: int = review.CHUNK_SIZE) -> dict[str, Any]:
    """Review every partnership not closed (of ``mission``) as of ``as_of`` (default: today, UTC)."""
    logger = get_run_logger()
    as_of = as_of or datetime.now(timezone.utc).date()
    plan = plan_review(as_of, mission, chunk_size)
    logger.info("review %s as of %s (%s): %d chunks, %d to do", plan.review_id, as_of,
                mission or "every mission", plan.chunks, len(plan.pending))
    pool = os.environ.get("ISP_WORK_POOL")
    error = _fan_out(plan, pool, logger) if pool and plan.pending else _run_here(plan, logger)
    summary = finish_review(plan.review_id, error)
    if plan.status == "complete":
        logger.info("review %s was recorded at %s UTC: nothing recorded or sent again", plan.review_id,
                    plan.finished_at)
    logger.info("review %s %s: %d partnerships, %d blocked, %d alerts "
                "(%d new, %d cleared since the previous review)", summary.review_id, summary.status,
                summary.reviewed, summary.blocked, summary.alerts, summary.new_alerts, summary.cleared)
    _artifacts(summary)
    if not summary.complete:
        # the one exception for an incomplete review: it fails the flow run (and the CLI exits 1)
        raise ReviewIncomplete(f"review {summary.review_id} is incomplete ({summary.error}); run it again")
    return summary.to_json()


def review_deployment(cron: str | None = None, name: str = REVIEW_DEPLOYMENT_NAME):
    """The weekly review, for ``isp serve`` (``serve(review_deployment(), ...)``).

    ``cron``: default ``ISP_REVIEW_CRON``, else Mondays 06:00 UTC.
    """
    cron = cron or os.environ.get("ISP_REVIEW_CRON") or DEFAULT_CRON
    return portfolio_review.to_deployment(name=name, cron=cron, description="The weekly portfolio review.")


def chunk_deployment(work_pool: str | None = None):
    """The chunk deployment, registered in ``work_pool`` (default ``ISP_WORK_POOL``) for its workers:
    ``chunk_deployment().apply()`` once, then ``prefect worker start --pool POOL`` on each machine."""
    from prefect.deployments.runner import EntrypointType

    pool = work_pool or os.environ.get("ISP_WORK_POOL")
    # by module path: workers import the installed package, wherever they run the flow from
    deployment = review_chunk_flow.to_deployment(name="review-chunk", description="One chunk of a portfolio review.",
                                                 entrypoint_type=EntrypointType.MODULE_PATH)
    deployment.work_pool_name = pool
    return deployment
