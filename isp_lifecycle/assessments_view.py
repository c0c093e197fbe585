"""What partners said, for the pages and the review: ratings by sector, trend, disagreement.

The **latest round** of a partnership is the latest review whose invitations got at least one
answer (open or closed: answers show as they come). Declined assessments count for nothing.

    summary(session, partnership_id)          -> the partnership page's section (per principle:
                                                 ratings by sector, comments, trend, whether the
                                                 rules' verdict of that review disagrees), and
                                                 the partners that would leave an initiative
    grid(session, partnership_ids)            -> the portfolio's principles x partnerships view
    concerns_for(session, after, last, as_of) -> {partnership: (current round, previous round,
                                                 leaving)} for the review's ``partners-concerned``

Comments carry the organisation's name, and the author's only when they chose so.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from .assessments import SENTENCES
from .assessments_scores import SCORE, SECTOR_NAMES, by_sector, overall
from .store.assessment_models import Assessment, AssessmentRating, AssessmentTaking
from .store.models import PortfolioReviewResult

TREND = 6  # rounds shown in the trend


def _rated(session, ids: list[str], before: date | None = None):
    """(partnership, round date, review, sector, principle, rating, comment, attributed, partner, name) rows."""
    a, r = Assessment, AssessmentRating
    query = (select(a.partnership_id, a.as_of, a.review_id, a.sector, r.principle, r.rating, r.comment,
                    r.attributed, a.partner_name, a.name)
             .join(r, r.assessment_id == a.id).where(a.partnership_id.in_(ids), a.declined_at.is_(None)))
    if before is not None:
        query = query.where(a.as_of < before, a.answered_at < _by_end_of(before))
    return session.execute(query.order_by(a.partnership_id, a.as_of, a.id)).all()


def _rounds(rows) -> dict[str, dict[date, list]]:
    """{partnership: {round date: rows}}, rounds in date order."""
    out: dict[str, dict[date, list]] = defaultdict(dict)
    for row in rows:
        out[row[0]].setdefault(row[1], []).append(row)
    return out


def _by_end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time())


def _leaving(session, partnership_id: str, review_id: int, before: date | None = None) -> list[dict[str, str]]:
    """Partners that would stop taking part in an initiative (answers given by ``before``, if given)."""
    a, t = Assessment, AssessmentTaking
    query = (select(a.partner_name, a.partner_id, t.initiative).join(t, t.assessment_id == a.id)
             .where(a.partnership_id == partnership_id, a.review_id == review_id, a.declined_at.is_(None),
                    t.stays.is_(False)))
    if before is not None:
        query = query.where(a.answered_at < _by_end_of(before))
    found = session.execute(query.order_by(a.partner_id, t.initiative)).all()
    return [{"partner": n, "partner_id": p, "initiative": i} for n, p, i in dict.fromkeys(found)]


def _disagreement(rating: str | None, sectors: dict[str, str], findings: list[dict]) -> str | None:
    """A sentence where the rules of that review and the partners' ratings disagree."""
    red = [s for s, r in sectors.items() if r == "red"]
    if not findings and len(red) >= 2:
        return f"The rules find nothing wanting here, but {len(red)} of {len(sectors)} sectors rate it red."
    if findings and rating == "green":
        return (f"The rules found {len(findings)} thing{'s' if len(findings) > 1 else ''} wanting here, "
                f"yet the partners rate it green.")
    return None


def _principle(slug: str, rows: list, history: list[tuple[date, dict]], findings: list[dict]) -> dict[str, Any]:
    sectors = by_sector((x.sector, x.principle, x.rating) for x in rows)[slug]
    rating = overall(sectors)
    comments = [{"text": x.comment, "by": f"{x.name}, {x.partner_name}" if x.attributed else x.partner_name,
                 "sector": x.sector, "rating": x.rating} for x in rows if x.comment]
    counts = {s: {w: sum(1 for x in rows if x.sector == s and x.rating == w) for w in SCORE} for s in sectors}
    return {"slug": slug, "sentence": SENTENCES.get(slug, ""), "rating": rating,
            "sectors": [{"sector": s, "name": SECTOR_NAMES.get(s, s), "rating": sectors[s], "counts": counts[s]}
                        for s in sectors],
            "comments": comments,
            "trend": [{"as_of": when, "rating": overall(by.get(slug, {}))} for when, by in history if by.get(slug)],
            "disagreement": _disagreement(rating, sectors, findings)}


def summary(session, partnership_id: str) -> dict[str, Any] | None:
    """The partnership page's section, or ``None`` when no partner has answered yet."""
    rounds = _rounds(_rated(session, [partnership_id])).get(partnership_id)
    if not rounds:
        return None
    latest = max(rounds)
    rows = rounds[latest]
    review_id = rows[0].review_id
    verdict = session.scalar(select(PortfolioReviewResult.verdict).where(
        PortfolioReviewResult.review_id == review_id, PortfolioReviewResult.partnership_id == partnership_id)) or {}
    findings: dict[str, list] = defaultdict(list)
    for f in verdict.get("findings", []):
        findings[f["principle"]].append(f)
    history = [(when, by_sector((x.sector, x.principle, x.rating) for x in got))
               for when, got in sorted(rounds.items())[-TREND:]]
    by_slug: dict[str, list] = defaultdict(list)
    for x in rows:
        by_slug[x.principle].append(x)
    principles = [_principle(slug, by_slug[slug], history, findings.get(slug, []))
                  for slug in SENTENCES if slug in by_slug]
    answered = len({(x.partner_name, x.name) for x in rows})
    return {"as_of": latest, "review": review_id, "answered": answered, "principles": principles,
            "leaving": _leaving(session, partnership_id, review_id)}


def grid(session, partnership_ids: list[str]) -> dict[str, Any]:
    """Principles x partnerships: each partnership's rating of each principle in its latest round."""
    latest: dict[str, dict[str, str]] = {}
    for pid, rounds in _rounds(_rated(session, partnership_ids)).items():
        rows = rounds[max(rounds)]
        latest[pid] = {p: overall(s) for p, s in by_sector((x.sector, x.principle, x.rating) for x in rows).items()}
    principles = [p for p in SENTENCES if any(p in r for r in latest.values())]
    return {"principles": principles, "ratings": latest}


def concerns_for(session, after_id: str, last_id: str, as_of: date) -> dict[str, tuple]:
    """For the partnerships with ids in ``(after_id, last_id]``: (latest round by sector, the round
    before, partners leaving an initiative), from rounds of reviews before ``as_of`` with answers
    given by then."""
    a = Assessment
    ids = select(a.partnership_id).where(a.partnership_id > after_id, a.partnership_id <= last_id,
                                         a.as_of < as_of, a.answered_at.is_not(None)).distinct()
    wanted = list(session.scalars(ids))
    out = {}
    for pid, rounds in _rounds(_rated(session, wanted, before=as_of)).items():
        dates = sorted(rounds)
        current = by_sector((x.sector, x.principle, x.rating) for x in rounds[dates[-1]])
        previous = by_sector((x.sector, x.principle, x.rating) for x in rounds[dates[-2]]) if len(dates) > 1 else None
        out[pid] = (current, previous, _leaving(session, pid, rounds[dates[-1]][0].review_id, as_of))
    return out
