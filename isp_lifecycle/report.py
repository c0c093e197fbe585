"""The HTML report of a portfolio review: one self-contained file (inline CSS and SVG, no script,
no font, no image, nothing fetched), readable when opened from disk.

    render(store, as_of=None, mission=None) -> (html, as_of of the review reported)

It reads a complete review (the latest one when ``as_of`` is not given) and the complete review
of the same mission before it, for the trend.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from html import escape

from sqlalchemy import select

from .errors import UsageError
from .lifecycle import STAGES
from .review import ALERTS, _mission_key, _stream_results
from .store import Store
from .store.models import PartnershipRow, Review

MAX_LISTED = 1000  # partnerships listed, by id, with their findings; the counts cover every one

CSS = """
:root{--ink:#1d2733;--muted:#5b6b7c;--line:#dde3ea;--bg:#f6f8fa;--accent:#1f6feb;--bad:#c62828;--warn:#b26a00;--ok:#2e7d32}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#14324f;color:#fff;padding:28px 40px}header h1{margin:0 0 4px;font-size:26px}header p{margin:0;color:#c9d7e6}
main{max-width:1180px;margin:0 auto;padding:24px 40px 60px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:20px 24px;margin:0 0 20px}
h2{font-size:18px;margin:0 0 14px}.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px}
.card{border:1px solid var(--line);border-radius:8px;padding:14px 16px}.card b{display:block;font-size:28px}
.card span{color:var(--muted);font-size:13px}.up{color:var(--bad)}.down{color:var(--ok)}.same{color:var(--muted)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:20px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{font-size:13px;color:var(--muted)}
td.n{text-align:right;font-variant-numeric:tabular-nums}details{border-bottom:1px solid var(--line);padding:8px 0}
summary{cursor:pointer;font-weight:600}.tag{display:inline-block;font-size:12px;border-radius:10px;padding:0 8px;margin-left:6px;font-weight:500}
.blocked{background:#fdecea;color:var(--bad)}.ready{background:#e8f5e9;color:var(--ok)}.alert{background:#fff4e0;color:var(--warn)}
ul{margin:6px 0 0 0;padding-left:20px}li{margin:4px 0}.fix{color:var(--muted)}.muted{color:var(--muted)}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;fill:#1d2733}
@media print{body{background:#fff}section{break-inside:avoid}}
"""


def _pick(session, as_of: date | None, mission: str | None) -> tuple[Review, Review | None]:
    key = _mission_key(mission)
    done = select(Review).where(Review.mission == key, Review.status == "complete")
    if as_of is None:
        review = session.scalars(done.order_by(Review.as_of.desc()).limit(1)).first()
    else:
        review = session.scalars(done.where(Review.as_of == as_of)).first()
    if review is None:
        when = f" as of {as_of.isoformat()}" if as_of else ""
        raise UsageError(f"no complete review{when} of {mission or 'every mission'} in the store; run `isp review` first")
    previous = session.scalars(done.where(Review.as_of < review.as_of).order_by(Review.as_of.desc()).limit(1)).first()
    return review, previous


def _tally(session, review: Review | None, keep: bool = False):
    t = {"reviewed": 0, "blocked": 0, "alerts": 0, "stages": Counter(), "principles": Counter(),
         "by_alert": Counter(), "listed": [], "unlisted": 0}
    if review is None:
        return None
    for row in _stream_results(session, review.id):
        v = row.verdict
        t["reviewed"] += 1
        t["blocked"] += not v["passed"]
        t["alerts"] += len(row.alerts)
        t["stages"][row.stage] += 1
        for principle in {f["principle"] for f in v["findings"] if f["severity"] == "blocking"}:
            t["principles"][principle] += 1
        t["by_alert"].update(a["alert"] for a in row.alerts)
        if keep:
            if len(t["listed"]) < MAX_LISTED:
                t["listed"].append((row.partnership_id, row.name, row.stage, row.days_in_stage, v, row.alerts))
            else:
                t["unlisted"] += 1
        session.expunge(row)
    return t


def _bars(items: list[tuple[str, int]], colour: str, width: int = 520) -> str:
    """A horizontal bar chart as inline SVG."""
    if not items:
        return '<p class="muted">Nothing to chart.</p>'
    label_w, row_h, top = 190, 26, 6
    biggest = max(n for _, n in items) or 1
    bar_w = width - label_w - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width:{width}px" '
             f'viewBox="0 0 {width} {top + row_h * len(items)}" role="img">']
    for i, (label, n) in enumerate(items):
        y = top + i * row_h
        w = max(2, round(bar_w * n / biggest)) if n else 0
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="16" rx="3" fill="{colour}"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _delta(now: int, before: int | None, more_is_bad: bool = True) -> str:
    if before is None:
        return '<span class="same">no earlier review</span>'
    d = now - before
    if d == 0:
        return '<span class="same">same as last review</span>'
    cls = ("up" if d > 0 else "down") if more_is_bad else ("down" if d > 0 else "up")
    return f'<span class="{cls}">{"▲" if d > 0 else "▼"} {abs(d)} since last review</span>'


def _partnership(pid, name, stage, days, verdict, alerts) -> str:
    blocking = [f for f in verdict["findings"] if f["severity"] == "blocking"]
    tag = ('<span class="tag ready">ready</span>' if verdict["passed"]
           else f'<span class="tag blocked">{len(blocking)} blocking</span>')
    tags = tag + (f'<span class="tag alert">{len(alerts)} alert{"s" * (len(alerts) != 1)}</span>' if alerts else "")
    out = [f"<details><summary>{escape(pid)} — {escape(name)} {tags}</summary>",
           f'<p class="muted">{escape(stage)} for {days} days; {escape(verdict["gate"])} gate</p>']
    if alerts:
        out.append("<ul>" + "".join(f"<li><b>{escape(a['alert'])}</b>: {escape(a['message'])}</li>" for a in alerts)
                   + "</ul>")
    if verdict["findings"]:
        out.append("<ul>" + "".join(
            f"<li><b>{escape(f['rule'])}</b> [{escape(f['severity'])}, {escape(f['principle'])}] {escape(f['message'])}"
            f'<br><span class="fix">What to do: {escape(f["remediation"])}</span></li>' for f in verdict["findings"])
            + "</ul>")
    if not alerts and not verdict["findings"]:
        out.append('<p class="muted">Nothing to do: ready for its gate, no alert.</p>')
    out.append("</details>")
    return "".join(out)


def render(store: Store, *, as_of: date | None = None, mission: str | None = None) -> tuple[str, date]:
    with store.sessions.begin() as session:
        review, previous = _pick(session, as_of, mission)
        now = _tally(session, review, keep=True)
        before = _tally(session, previous)
        closed_query = select(PartnershipRow.id, PartnershipRow.name).where(PartnershipRow.stage == "closed")
        if mission:
            closed_query = closed_query.where(PartnershipRow.mission == mission)
        closed = session.execute(closed_query.order_by(PartnershipRow.id).limit(MAX_LISTED)).all()
    scope = escape(mission or "every mission")
    prev = (lambda key: before[key]) if before else (lambda key: None)
    cards = [("partnerships reviewed", now["reviewed"], prev("reviewed"), False),
             ("not ready to leave their stage", now["blocked"], prev("blocked"), True),
             ("health alerts", now["alerts"], prev("alerts"), True),
             ("ready to move on", now["reviewed"] - now["blocked"],
              before and before["reviewed"] - before["blocked"], False)]
    now["stages"]["closed"] = len(closed)  # not reviewed; shown so the portfolio is whole
    stage_items = [(s, now["stages"][s]) for s in STAGES if now["stages"][s]]
    closed_line = ('<p class="muted">Closed (not reviewed): '
                   + ", ".join(f"{escape(name)} ({escape(pid)})" for pid, name in closed) + "</p>") if closed else ""
    principle_items = now["principles"].most_common(10)
    trend_rows = "".join(
        f"<tr><td>{escape(a)}</td><td class='n'>{now['by_alert'][a]}</td>"
        f"<td class='n'>{before['by_alert'][a] if before else '–'}</td>"
        f"<td>{_delta(now['by_alert'][a], before['by_alert'][a] if before else None)}</td></tr>" for a in ALERTS)
    listed = "".join(_partnership(*item) for item in now["listed"]) or '<p class="muted">No partnership was reviewed.</p>'
    more = (f'<p class="muted">… and {now["unlisted"]} more partnerships '
            "(see <code>isp review --format json</code>).</p>" if now["unlisted"] else "")
    since = f"compared with the review of {previous.as_of.isoformat()}" if previous else "the first review on record"
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portfolio review {review.as_of.isoformat()} — {scope}</title>
<style>{CSS}</style></head>
<body><header><h1>Portfolio review as of {review.as_of.isoformat()}</h1>
<p>{scope} · {since} · rules {escape(review.rules_digest[:19])}…</p></header>
<main>
<section><h2>At a glance</h2><div class="cards">{"".join(
        f'<div class="card"><b>{n}</b>{escape(label)}<br>{_delta(n, b, bad)}</div>' for label, n, b, bad in cards)}</div></section>
<div class="grid">
<section><h2>Portfolio by stage</h2>{_bars(stage_items, "#1f6feb", 500)}{closed_line}</section>
<section><h2>Principles most often failing</h2><p class="muted">Partnerships with a blocking finding, by handbook principle.</p>{_bars(principle_items, "#c62828", 500)}</section>
</div>
<section><h2>Health alerts, against the last review</h2><table><thead><tr><th>alert</th><th>now</th><th>last review</th><th>trend</th></tr></thead><tbody>{trend_rows}</tbody></table></section>
<section><h2>Partnerships: findings and what to do</h2>{listed}{more}</section>
</main></body></html>
"""
    return html, review.as_of
