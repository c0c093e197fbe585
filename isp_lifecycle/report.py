"""The HTML report of a portfolio review: one self-contained file (inline CSS and SVG, no script,
no font, no image, nothing fetched), readable when opened from disk.

    render(store, as_of=None, mission=None) -> (html, as_of of the review reported)

It reads a complete review (the latest one when ``as_of`` is not given) and the complete review
of the same mission before it, for the trend, through ``isp_lifecycle.review_results``; this
module counts, and ``templates/report.html`` (Jinja2, autoescaped like the notifications) lays
the page out, so that every value a partnership document supplies is escaped by the template
engine rather than by hand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import review_results
from .health import ALERTS
from .lifecycle import STAGES
from .store import Store

MAX_LISTED = 1000  # partnerships listed, by id, with their findings; the counts cover every one
TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Tally:
    """What one review found, counted (and, for the review reported, listed up to ``MAX_LISTED``)."""

    reviewed: int = 0
    blocked: int = 0
    alerts: int = 0
    stages: Counter = field(default_factory=Counter)
    principles: Counter = field(default_factory=Counter)
    by_alert: Counter = field(default_factory=Counter)
    listed: list[review_results.ReviewedPartnership] = field(default_factory=list)
    unlisted: int = 0

    @property
    def ready(self) -> int:
        return self.reviewed - self.blocked


def tally(store: Store, review_id: int, keep: bool = False) -> Tally:
    t = Tally()
    for row in review_results.results(store, review_id):
        v = row.verdict
        t.reviewed += 1
        t.blocked += not v["passed"]
        t.alerts += len(row.alerts)
        t.stages[row.stage] += 1
        t.principles.update({f["principle"] for f in v["findings"] if f["severity"] == "blocking"})
        t.by_alert.update(a["alert"] for a in row.alerts)
        if keep and len(t.listed) < MAX_LISTED:
            t.listed.append(row)
        elif keep:
            t.unlisted += 1
    return t


def delta(now: int, before: int | None, more_is_bad: bool = True) -> tuple[str, str]:
    """(css class, words) of a change since the last review."""
    if before is None:
        return "same", "no earlier review"
    d = now - before
    if d == 0:
        return "same", "same as last review"
    cls = ("up" if d > 0 else "down") if more_is_bad else ("down" if d > 0 else "up")
    return cls, f"{'▲' if d > 0 else '▼'} {abs(d)} since last review"


def bars(items: list[tuple[str, int]], width: int = 500) -> dict[str, Any]:
    """The geometry of a horizontal bar chart (inline SVG in the template)."""
    label_w, row_h, top = 190, 26, 6
    biggest = max((n for _, n in items), default=0) or 1
    bar_w = width - label_w - 50
    rows = [{"label": label, "n": n, "y": top + i * row_h,
             "w": max(2, round(bar_w * n / biggest)) if n else 0} for i, (label, n) in enumerate(items)]
    return {"width": width, "height": top + row_h * len(items), "label_w": label_w, "rows": rows}


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html")


def _cards(now: Tally, before: Tally | None) -> list[tuple[str, int, tuple[str, str]]]:
    prev = (lambda value: value) if before else (lambda value: None)
    b = before or Tally()
    return [("partnerships reviewed", now.reviewed, delta(now.reviewed, prev(b.reviewed), False)),
            ("not ready to leave their stage", now.blocked, delta(now.blocked, prev(b.blocked))),
            ("health alerts", now.alerts, delta(now.alerts, prev(b.alerts))),
            ("ready to move on", now.ready, delta(now.ready, prev(b.ready), False))]


def render(store: Store, *, as_of: date | None = None, mission: str | None = None) -> tuple[str, date]:
    review, previous = review_results.complete_reviews(store, as_of, mission)
    now = tally(store, review.review_id, keep=True)
    before = tally(store, previous.review_id) if previous else None
    closed = review_results.closed_partnerships(store, mission, MAX_LISTED)
    now.stages["closed"] = len(closed)  # not reviewed; shown so the portfolio is whole
    trend = [(a, now.by_alert[a], before.by_alert[a] if before else None,
              delta(now.by_alert[a], before.by_alert[a] if before else None)) for a in ALERTS]
    html = _template().render(
        review=review, previous=previous, scope=mission or "every mission", cards=_cards(now, before),
        stage_bars=bars([(s, now.stages[s]) for s in STAGES if now.stages[s]]),
        principle_bars=bars(now.principles.most_common(10)), closed=closed, trend=trend, now=now,
    )
    return html, review.as_of
