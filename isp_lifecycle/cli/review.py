"""``isp review`` and ``isp report``: the portfolio review and its HTML report.

``isp review`` runs the ``portfolio_review`` Prefect flow (an embedded Prefect server when
``PREFECT_API_URL`` is unset); ``--no-prefect`` runs the same core in this process. Both record
the same results in the store; the output is read back from it. Running the same review again
(same date, same mission) starts nothing: it says that it shows the review recorded at such a
time and prints it as recorded.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import ExitStack, contextmanager
from datetime import date

import click

from ..errors import ReviewIncomplete
from .options import VERBOSE, parse_as_of, parse_date
from .progress import Progress
from .store import nothing_found, open_store


@contextmanager
def _chunk_lines():
    """The core's log line of each chunk on this command's stderr, said once here (not propagated)."""
    logger = logging.getLogger("isp_lifecycle.review")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("isp review: %(message)s"))
    handler.setLevel(logging.INFO)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _chunk_bar(stack: ExitStack):
    """A listener of finished chunks showing a bar over them, begun with the first (when their number
    is known) and ended with ``stack``. It shows on a terminal only (cli/progress.py)."""
    bar: Progress | None = None

    def chunk_done(outcome, plan) -> None:
        nonlocal bar
        if bar is None:
            bar = stack.enter_context(Progress(len(plan.pending), "reviewing", shown_from=0))
        bar.update(1, f"{outcome.reviewed} partnerships")

    return chunk_done


def _run_bare(store, as_of: date, mission: str | None, chunk_size: int, progress):
    from .. import review

    return review.run_review(store, as_of, mission, chunk_size=chunk_size, progress=progress)


def _run_flow(store, as_of: date, mission: str | None, chunk_size: int, progress):
    from isp_lifecycle.flows import runtime

    runtime.connect()  # PREFECT_API_URL, else the server of a running `isp serve`, else embedded
    from isp_lifecycle.flows import review as review_flow

    from .. import review_results

    review_flow.chunk_listeners.append(progress)
    try:
        with runtime.without_heartbeat():
            review_flow.portfolio_review(as_of=as_of, mission=mission, chunk_size=chunk_size)
    except Exception as exc:  # the store says how far it got; Prefect's own failure goes to stderr
        click.echo(f"isp review: the review flow failed: {type(exc).__name__}: {exc}", err=True)
    finally:
        review_flow.chunk_listeners.remove(progress)
    plan = review_results.find_review(store, as_of, mission)
    if plan is None:
        raise ReviewIncomplete("the review did not start (see the errors above); run it again, "
                               "or with --no-prefect to run it without Prefect")
    return review_results.summary(store, plan.review_id)


def _stage_words(row) -> str:
    """Where the partnership stands, never as a negative age: a move into its stage dated after
    the review's as-of date is said as such, and so is a move since the review was recorded."""
    if row.moved_after_as_of:
        words = f"moved to {row.stage} on {row.stage_entered}, after {row.as_of}"
    else:
        words = f"{row.stage}, {_count(row.days_in_stage, 'day')}"
    return words + (f" (now in {row.stage_now})" if row.moved_since else "")


def _text_line(row, colour: bool) -> str:
    def style(text, **kw):
        return click.style(text, **kw) if colour else text

    v = row.verdict
    verdict = style("ready", fg="green") if v["passed"] else style(f"not ready ({row.blocking} blocking)", fg="red")
    new = {(a["alert"], a["subject"]) for a in row.new_alerts}
    lines = [f"{style(row.partnership_id, bold=True)}  {_stage_words(row)}; {v['gate']} gate: {verdict}"]
    for a in row.alerts:
        mark = style(" (new)", fg="yellow") if (a["alert"], a["subject"]) in new else ""
        lines.append(f"    {style(a['alert'], fg='yellow')}{mark} {a['subject']}: {a['message']}")
    lines += [f"    {style(a['alert'], fg='green')} (cleared) {a['subject']}" for a in row.cleared]
    return "\n".join(lines)


def _at(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def _recorded_before(store, as_of: date, mission: str | None, scope: str, fmt: str):
    """The review of this date and mission if it was run before: a complete one is shown as
    recorded (said first, with when it ran), an unfinished one is completed (said on stderr)."""
    from .. import review_results

    plan = review_results.find_review(store, as_of, mission)
    if plan is None:
        return None
    if plan.status != "complete":
        click.echo(f"isp review: completing the review of {scope} as of {as_of.isoformat()} started at "
                   f"{_at(plan.started_at)} ({plan.chunks - len(plan.pending)} of {plan.chunks} chunks "
                   "recorded then)", err=True)
        return None
    note = (f"the review of {scope} as of {as_of.isoformat()} recorded at {_at(plan.finished_at)}, shown as "
            "recorded: nothing is recorded or sent again (a review is identified by its date and mission)")
    click.echo(note if fmt == "text" else f"isp review: {note}", err=fmt != "text")
    return review_results.summary(store, plan.review_id)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _summary_line(summary, scope: str) -> str:
    if summary.previous is None:
        compared = f"no earlier review of {scope} to compare with"
    else:
        compared = f"{summary.new_alerts} new, {summary.cleared} cleared since the review as of {summary.previous}"
    moved = (f"; {summary.moved_after} moved to their stage after {summary.as_of} (said above)"
             if summary.moved_after else "")
    return (f"\nreview of {scope} as of {summary.as_of.isoformat()}: {_count(summary.reviewed, 'partnership')}, "
            f"{summary.blocked} not ready to leave their stage, {_count(summary.alerts, 'alert')} ({compared}){moved}")


def _run(store, as_of: date, mission: str | None, chunk_size: int, no_prefect: bool):
    """The review run, with its progress on stderr: a bar over the chunks on a terminal, else their log lines."""
    run = _run_bare if no_prefect else _run_flow
    with ExitStack() as stack:
        if not sys.stderr.isatty():
            stack.enter_context(_chunk_lines())
        return run(store, as_of, mission, chunk_size, _chunk_bar(stack))


@click.command("review")
@click.option("--as-of", "as_of", callback=parse_as_of, metavar="DATE",
              help="Review as of this date, YYYY-MM-DD. Default: today (UTC).")
@click.option("--mission", help="Only partnerships of this mission, e.g. USAID/Ghana.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
@click.option("--no-prefect", is_flag=True,
              help="Run the review in this process, without a Prefect flow run (no server needed).")
@click.option("--chunk-size", type=click.IntRange(1, 500), default=500, show_default=True,
              help="Partnerships per chunk (one transaction each).")
@VERBOSE
def review_(as_of, mission, fmt, no_prefect, chunk_size):
    """Review every partnership not closed: gate readiness and health alerts, recorded and notified.

    A review is identified by its date and mission: running it again shows the review as
    recorded (and when it ran), records nothing new and queues no message. New and cleared
    alerts are counted against the previous review of the same mission scope. Exit 0 when it
    ran, 1 when part of it failed (run it again to complete it), 2 on bad usage or an
    unusable store.
    """
    from .. import lifecycle, review_results, services

    lifecycle.remind_days()  # a bad ISP_REMIND_DAYS is bad usage, before anything runs
    with open_store() as store:
        mission = mission and services.mission_named(store, mission)
        scope = mission or "every mission"
        summary = (_recorded_before(store, as_of, mission, scope, fmt)
                   or _run(store, as_of, mission, chunk_size, no_prefect))
        colour = fmt == "text" and sys.stdout.isatty()
        for row in review_results.results(store, summary.review_id):
            if fmt == "json":
                click.echo(json.dumps(review_results.output_line(row, as_of), ensure_ascii=False))
            else:
                click.echo(_text_line(row, colour))
        stored = services.missions(store).stored if not summary.reviewed else summary.reviewed
    if fmt == "text" and not summary.reviewed:
        click.echo(nothing_found(stored, mission=mission, what="partnership open to review",
                                 hint="closed ones are not reviewed"))
    if fmt == "text":
        click.echo(_summary_line(summary, scope))
    if not summary.complete:
        raise ReviewIncomplete(f"the review of {scope} as of {as_of.isoformat()} is incomplete "
                               f"({summary.chunks_done} of {summary.chunks} chunks; {summary.error}); "
                               "what finished is kept: run the same command again to complete it")


@click.command()
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the HTML. Default: $ISP_HOME/reports/review-<date>.html.")
@click.option("--as-of", "as_of", callback=parse_date, metavar="DATE",
              help="The review of this date, YYYY-MM-DD (default: the latest complete one).")
@click.option("--mission", help="The review of this mission (default: the review of every mission).")
def report(out, as_of, mission):
    """Write a self-contained HTML report of a portfolio review (open it from disk)."""
    from .. import report as report_module
    from ..store import isp_home

    day = as_of
    with open_store() as store:
        html, reviewed = report_module.render(store, as_of=day, mission=mission)
    path = out or str(isp_home() / "reports" / f"review-{reviewed.isoformat()}.html")
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(html, encoding="utf-8")
    click.echo(path)
