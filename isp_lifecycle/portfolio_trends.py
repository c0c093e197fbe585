"""How a portfolio moved across its recorded reviews: what the portfolio page and the report show
beyond the latest review's own rows.

    recent(session, review)              -> the complete reviews of the same scope up to it, newest first
    totals(session, reviews, within)     -> per review: reviewed, ready, blocked, with alerts, new alerts, by stage
    changes(totals, kinds)               -> plain sentences: what changed since the previous review
    marks(session, reviews, ids)         -> per partnership, its standing in each of those reviews
    alert_kinds(session, review, within) -> per alert: how many now, new and cleared since the previous review
    principles(session, review, within)  -> the handbook principles most often blocking, with counts

Everything is read from the reviews' recorded results, never recomputed; new and cleared alerts
are counted as ``isp review`` counts them (``review_results``); ``within`` narrows a query on
``PortfolioReviewResult`` to what the reader may see.
A review is compared only with reviews of the same scope (every mission, or one mission).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, select

from . import review_results
from .health import ALERTS
from .lifecycle import STAGES
from .store.models import PortfolioReview, PortfolioReviewResult

TRENDS = 6  # reviews in the portfolio's totals
MARKS = 4  # reviews in each partnership's row of marks
PRINCIPLES = 10  # principles listed, most often blocking first
Within = Callable[[Any], Any]
REVIEWED_STAGES = tuple(s for s in STAGES if s != "closed")  # a review skips closed partnerships


def recent(session, review: PortfolioReview, n: int = TRENDS) -> list[PortfolioReview]:
    """``review`` and the complete reviews of the same scope before it, newest first."""
    return list(session.scalars(
        select(PortfolioReview).where(PortfolioReview.status == "complete", PortfolioReview.mission == review.mission,
                                      PortfolioReview.as_of <= review.as_of)
        .order_by(PortfolioReview.as_of.desc(), PortfolioReview.id.desc()).limit(n)))


def label(day, reviews: list[PortfolioReview]) -> str:
    """A review's date, short: ``27 Nov``, with the year when the reviews span more than one."""
    years = {r.as_of.year for r in reviews}
    return f"{day.day} {day:%b}" + (f" {day.year}" if len(years) > 1 else "")


def totals(session, reviews: list[PortfolioReview], within: Within) -> list[dict[str, Any]]:
    """Per review (newest first): partnerships reviewed, ready, blocked, with alerts, new alerts,
    and how many in each stage. One grouped query."""
    r = PortfolioReviewResult
    out = {review.id: {"as_of": review.as_of, "label": label(review.as_of, reviews), "reviewed": 0, "ready": 0,
                       "blocked": 0, "alerted": 0, "new_alerts": 0, "stages": dict.fromkeys(REVIEWED_STAGES, 0)}
           for review in reviews}
    if not reviews:
        return []
    query = within(select(r.review_id, r.stage, func.count(), func.sum(case((r.blocking > 0, 1), else_=0)),
                          func.sum(case((func.json_array_length(r.alerts) > 0, 1), else_=0)),
                          func.sum(func.json_array_length(r.new_alerts)))
                   .where(r.review_id.in_(list(out))).group_by(r.review_id, r.stage))
    for review_id, stage, count, blocked, alerted, new in session.execute(query):
        t = out[review_id]
        t["reviewed"] += count
        t["blocked"] += blocked or 0
        t["ready"] += count - (blocked or 0)
        t["alerted"] += alerted or 0
        t["new_alerts"] += new or 0
        t["stages"][stage] = t["stages"].get(stage, 0) + count
    return [out[review.id] for review in reviews]


def _more_or_fewer(now: int, before: int, what: str) -> str | None:
    if now == before:
        return None
    return f"{abs(now - before)} {'more' if now > before else 'fewer'} {what}"


def changes(trend: list[dict[str, Any]], kinds: list[dict[str, Any]]) -> list[str]:
    """What changed since the previous review of the same scope, in words (empty without one)."""
    if len(trend) < 2:
        return []
    now, before = trend[0], trend[1]
    said = [_more_or_fewer(now["reviewed"], before["reviewed"], "reviewed"),
            _more_or_fewer(now["blocked"], before["blocked"], "with a blocked gate"),
            _more_or_fewer(now["alerted"], before["alerted"], "with alerts")]
    new, cleared = sum(k["new"] for k in kinds), sum(k["cleared"] for k in kinds)
    said.append(f"{new} alert{'' if new == 1 else 's'} new, {cleared} cleared")
    out = [s for s in said if s]
    return out if len(out) > 1 or new or cleared else ["the same counts as the previous review, no alert new or cleared"]


def marks(session, reviews: list[PortfolioReview], ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each partnership's standing in ``reviews`` (newest first): ``kind`` (ok, bad, warn, none)
    and ``words`` for a compact row readable without colour; ``moved`` where its stage differs
    from the review before."""
    r = PortfolioReviewResult
    found: dict[tuple[int, str], tuple[str, int, int]] = {}
    if ids and reviews:
        query = select(r.review_id, r.partnership_id, r.stage, r.blocking, func.json_array_length(r.alerts)).where(
            r.review_id.in_([review.id for review in reviews]), r.partnership_id.in_(ids))
        found = {(rid, pid): (stage, blocking, alerts) for rid, pid, stage, blocking, alerts in session.execute(query)}
    out: dict[str, list[dict[str, Any]]] = {}
    for pid in ids:
        row = [_mark(review, found.get((review.id, pid)), reviews) for review in reviews]
        for newer, older in zip(row, row[1:]):
            newer["moved"] = None not in (newer["stage"], older["stage"]) and newer["stage"] != older["stage"]
        out[pid] = row
    return out


def _mark(review: PortfolioReview, seen: tuple[str, int, int] | None, reviews) -> dict[str, Any]:
    when = label(review.as_of, reviews)
    if seen is None:
        return {"label": when, "kind": "none", "words": "not reviewed", "stage": None, "moved": False}
    stage, blocking, alerts = seen
    said = ([f"{blocking} blocking"] if blocking else ["ready"]) + (
        [f"{alerts} alert{'' if alerts == 1 else 's'}"] if alerts else [])
    kind = "bad" if blocking else ("warn" if alerts else "ok")
    return {"label": when, "kind": kind, "words": ", ".join(said), "stage": stage, "moved": False}


def alert_kinds(session, review: PortfolioReview, within: Within) -> list[dict[str, Any]]:
    """Per alert (the handbook's order): how many the review found, how many of them were new,
    and how many it cleared, both against the previous review of the same scope."""
    r = PortfolioReviewResult
    now, new = Counter(), Counter()
    for alerts, fresh in session.execute(within(select(r.alerts, r.new_alerts).where(
            r.review_id == review.id, func.json_array_length(r.alerts) + func.json_array_length(r.new_alerts) > 0))):
        now.update(a["alert"] for a in alerts)
        new.update(a["alert"] for a in fresh)
    cleared = Counter(a["alert"] for _, gone in review_results.cleared_since_previous(session, review, within)
                      for a in gone)
    return [{"alert": a, "now": now[a], "new": new[a], "cleared": cleared[a]} for a in ALERTS]


def principles(session, review: PortfolioReview, within: Within) -> list[tuple[str, int]]:
    """The principles with a blocking finding, by how many partnerships they block."""
    r = PortfolioReviewResult
    counts: Counter = Counter()
    for (verdict,) in session.execute(within(select(r.verdict).where(r.review_id == review.id, r.blocking > 0))):
        counts.update({f["principle"] for f in verdict["findings"] if f["severity"] == "blocking"})
    return counts.most_common(PRINCIPLES)
