"""Health alerts: what the portfolio review raises about one partnership, as of a date.

Pure functions of a document, its facts projection and its undecided approval requests:
no store, no SQLAlchemy (an import contract keeps it so), so the alerts of ``docs/spec/gates.md``
are tested in milliseconds and the review (``isp_lifecycle.review``) only records them.

    health_alerts(doc, as_of, facts, pending, remind) -> [{"alert", "subject", "message"}, ...]
    partners_concerned(current, previous, leaving)   -> the advisory ``partners-concerned`` alerts
    assess(doc, as_of, pending, checker=, remind=)    -> (verdict JSON of its stage's gate, alerts)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .assessments_scores import concerns
from .facts import happened
from .gates import GateChecker
from .model import Partnership

ALERTS = ("approval-pending", "commitment-expiring", "milestone-overdue", "partners-concerned", "review-overdue",
          "stage-overdue")
STAGE_LIMITS = {"convene": 180, "commit": 180, "implement": 365}  # days in stage before stage-overdue
REVIEW_INTERVAL = 365  # days without a review before review-overdue (implement, review)


@functools.lru_cache(maxsize=1)
def default_checker() -> GateChecker:
    """One checker per process: loading the rule pack and building rulesets is done once."""
    return GateChecker()


@dataclass(frozen=True)
class PendingApproval:
    """What ``approval-pending`` needs of an approval request."""

    id: int
    requested_at: datetime
    from_stage: str
    to_stage: str


def _alert(name: str, subject: str, message: str) -> dict[str, str]:
    return {"alert": name, "subject": subject, "message": message}


def _stage_and_review_alerts(doc: Partnership, as_of: date) -> list[dict[str, str]]:
    alerts = []
    entered = doc.entered
    in_stage = (as_of - entered).days
    limit = STAGE_LIMITS.get(doc.stage)
    if limit is not None and in_stage > limit:
        alerts.append(_alert("stage-overdue", "stage",
                             f"In {doc.stage} for {in_stage} days (since {entered.isoformat()}); "
                             f"more than {limit} days calls for moving on or rethinking."))
    if doc.stage in ("implement", "review"):
        reviewed = [r.date for r in doc.reviews if happened(r.date, as_of)]
        gap = (as_of - max([entered, *reviewed])).days
        if gap > REVIEW_INTERVAL:
            last = f"the last review was on {max(reviewed).isoformat()}" if reviewed else "no review yet"
            alerts.append(_alert("review-overdue", "reviews",
                                 f"{gap} days without a review ({last}); review at least every {REVIEW_INTERVAL} days."))
    return alerts


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
    alerts = _stage_and_review_alerts(doc, as_of)
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


def partners_concerned(
    current: dict[str, dict[str, str]],
    previous: dict[str, dict[str, str]] | None,
    leaving: Iterable[dict[str, str]] = (),
) -> list[dict[str, str]]:
    """``partners-concerned`` (advisory; docs/assessments.md), from the partners' latest round of
    ratings ({principle: {sector: rating}}) and the round before: once per principle that at
    least two sectors rate red or that fell two steps (green to red), and once per partner that
    would leave an initiative. Not a gate finding: ``isp check`` reads the document alone."""
    alerts = [_alert("partners-concerned", f"principles.{principle}",
                     f"Partners are concerned about {principle}: {why}.") for principle, why in concerns(current, previous)]
    for item in leaving:
        alerts.append(_alert("partners-concerned", f"initiatives.{item['initiative']}.partners.{item['partner_id']}",
                             f"'{item['partner']}' would like to stop taking part in initiative '{item['initiative']}'."))
    return alerts


def assess(
    doc: Partnership,
    as_of: date,
    pending: Iterable[PendingApproval] = (),
    *,
    checker: GateChecker | None = None,
    remind: int = 7,
    partners: tuple | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One partnership: (the verdict JSON of its current stage's gate, its health alerts).
    ``partners``: (latest round, previous round, leaving) of its partners' assessments, if any."""
    checker = checker or default_checker()
    facts = checker.facts(doc, as_of)
    verdict = checker.evaluate(doc, doc.stage, as_of, facts=facts)
    alerts = health_alerts(doc, as_of, facts, pending, remind)
    if partners:
        alerts = sorted(alerts + partners_concerned(*partners), key=lambda a: a["alert"])
    return verdict.to_json(), alerts
