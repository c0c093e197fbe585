"""The facts projection: a document, a gate and a date → the flat values rules compare.

Rules never see the document. They compare the scalars here (counts, booleans,
day differences), so that the engine does no arithmetic, no date handling and no
list walking (``docs/rules.md`` explains why). Lists of offending things ride along
under ``FINDING_LISTS`` so that a rule that fires can report one finding per partner,
initiative or milestone; those lists are JSON-safe but are never sent to the engine.

The reading rules of ``docs/spec/gates.md`` live here and nowhere else:
- events dated after ``as_of`` have not happened (signatures, agreements, vision
  dates, milestone ``done``, dissemination, review and training dates);
- windows are inclusive: ``as_of - 365 ≤ date ≤ as_of``;
- "3 years" is calendar years, 29 February reaching 28 February;
- a blank string counts as missing; contacts are counted by distinct email.
"""

from datetime import date, timedelta
from typing import Any

from .model import SECTORS, Partnership
from .vocabulary import GATES

# Every scalar fact with its type. The rule loader refuses a condition on any other
# name, and the property test draws random facts from this table.
SCALARS: dict[str, type] = {
    # convene
    "sectors_missing_count": int,
    "partners_count": int,
    "partners_without_capacity_count": int,
    "partners_without_capacity_plan_count": int,
    "issue_gaps_count": int,
    "local_partners_count": int,
    "leaders_count": int,
    "has_mission_director": bool,
    "multi_sector_leaders_count": int,
    "has_local_context": bool,
    "partners_with_few_contacts_count": int,
    # commit
    "partners_without_goals_count": int,
    "partners_without_commitment_count": int,
    "partners_without_motives_count": int,
    "has_accountability_agreement": bool,
    "has_vision_statement": bool,
    "vision_adopted": bool,
    "partners_holding_government_core_count": int,
    "governance_is_network": bool,
    "governance_opt_out_allowed": bool,
    "governance_gaps_count": int,
    "local_partners_with_authority_count": int,
    "financial_pledges_count": int,
    "partners_with_short_commitment_count": int,
    "governance_own_rules_adopted": bool,
    # implement
    "initiatives_count": int,
    "initiatives_without_milestones_count": int,
    "initiative_gaps_count": int,
    "milestones_done_count": int,
    "initiatives_led_by_local_count": int,
    "largest_lead_share_exceeds_half": bool,
    "milestones_overdue_count": int,
    "disseminations_count": int,
    "partners_with_expiring_commitment_count": int,
    # review
    "reviews_in_last_year_count": int,
    "has_latest_review": bool,
    "latest_review_sectors_without_outcome_count": int,
    "review_gaps_count": int,
    "disseminations_in_last_year_count": int,
    "latest_review_adapted": bool,
    "latest_review_assumptions_challenged_count": int,
    "vision_renewed_in_last_year": bool,
    "trainings_in_last_year_count": int,
}

# Lists of {"subject": ..., and message parameters} a rule may expand its finding over.
FINDING_LISTS = (
    "sectors_missing",
    "partners_without_capacity",
    "partners_without_capacity_plan",
    "issue_gaps",
    "partners_with_few_contacts",
    "partners_without_goals",
    "partners_without_commitment",
    "partners_without_motives",
    "partners_holding_government_core",
    "governance_gaps",
    "partners_with_short_commitment",
    "initiative_gaps",
    "lead_concentration",
    "milestones_overdue",
    "partners_with_expiring_commitment",
    "latest_review_sectors_without_outcome",
    "review_gaps",
)

SECTOR_NAMES = {"public": "government (public)", "private": "business (private)", "civil_society": "civil society"}


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


def add_years(day: date, years: int) -> date:
    """Calendar years; 29 February lands on 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _happened(day: date | None, as_of: date) -> bool:
    return day is not None and day <= as_of


def _in_last_year(day: date | None, as_of: date) -> bool:
    return day is not None and as_of - timedelta(days=365) <= day <= as_of


def _partner(p) -> dict[str, Any]:
    return {"subject": f"partners.{p.id}", "id": p.id, "name": p.name}


def project(doc: Partnership, as_of: date, government_core: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """All facts for ``doc`` as of ``as_of``: every key of ``SCALARS`` and ``FINDING_LISTS``.

    ``government_core`` is the rule pack's vocabulary of responsibilities that only
    government may hold (rule data, not code).
    """
    partners = doc.partners
    f: dict[str, Any] = {}

    # ---- convene
    sectors_present = {p.sector for p in partners}
    f["sectors_missing"] = [
        {"subject": f"sectors.{s}", "sector": s, "sector_name": SECTOR_NAMES[s]} for s in SECTORS if s not in sectors_present
    ]
    f["partners_count"] = len(partners)
    f["partners_without_capacity"] = [_partner(p) for p in partners if p.capacity is None]
    f["partners_without_capacity_plan"] = [
        dict(_partner(p), capacity=p.capacity)
        for p in partners
        if p.capacity in ("developing", "needs_support") and not _has(p.capacity_plan)
    ]
    issue = doc.issue
    stakes = issue.stakes if issue else None
    gaps = []
    if not (issue and _has(issue.statement)):
        gaps.append({"subject": "issue.statement", "what": "the issue statement"})
    for s in SECTORS:
        if not (stakes and _has(getattr(stakes, s))):
            gaps.append({"subject": f"issue.stakes.{s}", "what": f"the {SECTOR_NAMES[s]} stake"})
    f["issue_gaps"] = gaps
    f["local_partners_count"] = sum(1 for p in partners if p.local)
    f["leaders_count"] = len(doc.leaders)
    f["has_mission_director"] = doc.mission_director is not None
    f["multi_sector_leaders_count"] = sum(1 for leader in doc.leaders if len(set(leader.sectors)) >= 2)
    f["has_local_context"] = _has(doc.local_context)
    few = []
    for p in partners:
        distinct = len({c.email.lower() for c in p.contacts})
        if distinct < 2:
            few.append(dict(_partner(p), contacts=distinct))
    f["partners_with_few_contacts"] = few

    # ---- commit
    f["partners_without_goals"] = [_partner(p) for p in partners if not any(_has(g) for g in p.goals)]
    no_commitment = []
    for p in partners:
        c = p.commitment
        if c is None or not _happened(c.signed, as_of):
            no_commitment.append(dict(_partner(p), reason="has not signed a commitment"))
        elif not c.resources:
            no_commitment.append(dict(_partner(p), reason="has signed a commitment that pledges no resource"))
    f["partners_without_commitment"] = no_commitment
    f["partners_without_motives"] = [_partner(p) for p in partners if not _has(p.motives)]
    gov = doc.governance
    f["has_accountability_agreement"] = bool(gov and _happened(gov.accountability_agreement, as_of))
    vision = doc.vision
    f["has_vision_statement"] = bool(vision and _has(vision.statement))
    f["vision_adopted"] = bool(vision and _happened(vision.adopted, as_of))
    f["partners_holding_government_core"] = [
        dict(_partner(p), sector=p.sector, responsibilities=", ".join(held))
        for p in partners
        if p.sector != "public" and (held := [r for r in p.responsibilities if r in government_core])
    ]
    f["governance_is_network"] = bool(gov and gov.structure == "network")
    f["governance_opt_out_allowed"] = bool(gov and gov.opt_out_allowed)
    governance_gaps = []
    if not f["governance_is_network"]:
        governance_gaps.append(
            {"subject": "governance.structure", "what": "the partnership is not set up as a network"}
        )
    if not f["governance_opt_out_allowed"]:
        governance_gaps.append(
            {"subject": "governance.opt_out_allowed", "what": "partners may not opt out of initiatives"}
        )
    f["governance_gaps"] = governance_gaps
    f["local_partners_with_authority_count"] = sum(1 for p in partners if p.local and p.decision_authority)
    f["financial_pledges_count"] = sum(
        1 for p in partners if p.commitment for r in p.commitment.resources if r.kind == "financial"
    )
    short = []
    for p in partners:
        c = p.commitment
        signed = c.signed if c and _happened(c.signed, as_of) else None
        until = c.until if c else None
        if signed is None or until is None or until < add_years(signed, 3):
            short.append(dict(_partner(p), until=until.isoformat() if until else "not set"))
    f["partners_with_short_commitment"] = short
    f["governance_own_rules_adopted"] = bool(gov and gov.own_rules_adopted)

    # ---- implement
    initiatives = doc.initiatives
    f["initiatives_count"] = len(initiatives)
    if initiatives:
        initiative_gaps = [
            {"subject": f"initiatives.{i.id}", "id": i.id, "name": i.name, "case": "no-milestone"}
            for i in initiatives
            if not i.milestones
        ]
    else:
        initiative_gaps = [{"subject": "initiatives", "case": "none"}]
    f["initiative_gaps"] = initiative_gaps
    f["initiatives_without_milestones_count"] = sum(1 for i in initiatives if not i.milestones)
    f["milestones_done_count"] = sum(1 for i in initiatives for m in i.milestones if _happened(m.done, as_of))
    local_ids = {p.id for p in partners if p.local}
    f["initiatives_led_by_local_count"] = sum(1 for i in initiatives if i.lead in local_ids)
    leads: dict[str, int] = {}
    for i in initiatives:
        leads[i.lead] = leads.get(i.lead, 0) + 1
    names = {p.id: p.name for p in partners}
    concentration = [
        {"subject": f"partners.{pid}", "id": pid, "name": names.get(pid, pid), "led": n, "total": len(initiatives)}
        for pid, n in leads.items()
        if len(initiatives) >= 2 and 2 * n > len(initiatives)
    ]
    f["lead_concentration"] = concentration
    f["largest_lead_share_exceeds_half"] = bool(concentration)
    f["milestones_overdue"] = [
        {
            "subject": f"initiatives.{i.id}.milestones[{k}]",
            "initiative": i.name,
            "name": m.name,
            "due": m.due.isoformat(),
            "days": (as_of - m.due).days,
        }
        for i in initiatives
        for k, m in enumerate(i.milestones)
        if m.due < as_of and not _happened(m.done, as_of)
    ]
    f["disseminations_count"] = sum(1 for d in doc.dissemination if _happened(d.date, as_of))
    horizon = as_of + timedelta(days=180)
    f["partners_with_expiring_commitment"] = [
        dict(_partner(p), until=p.commitment.until.isoformat(), ended=p.commitment.until < as_of)
        for p in partners
        if p.commitment and p.commitment.until and p.commitment.until <= horizon
    ]

    # ---- review
    f["reviews_in_last_year_count"] = sum(1 for r in doc.reviews if _in_last_year(r.date, as_of))
    past = [(r.date, k, r) for k, r in enumerate(doc.reviews) if r.date <= as_of]
    latest = max(past, key=lambda t: (t[0], t[1])) if past else None
    f["has_latest_review"] = latest is not None
    missing_outcomes = []
    if latest:
        _, k, review = latest
        for s in SECTORS:
            if not (review.outcomes and any(_has(o) for o in getattr(review.outcomes, s))):
                missing_outcomes.append(
                    {"subject": f"reviews[{k}].outcomes.{s}", "sector": s, "sector_name": SECTOR_NAMES[s],
                     "date": review.date.isoformat()}
                )
        f["latest_review_adapted"] = review.goals_adapted or review.new_partners_considered
        f["latest_review_assumptions_challenged_count"] = sum(1 for a in review.assumptions_challenged if _has(a))
        f["latest_review_subject"] = f"reviews[{k}]"
        f["latest_review_date"] = review.date.isoformat()
    else:
        f["latest_review_adapted"] = False
        f["latest_review_assumptions_challenged_count"] = 0
        f["latest_review_subject"] = "reviews"
        f["latest_review_date"] = ""
    f["latest_review_sectors_without_outcome"] = missing_outcomes
    review_gaps = [] if f["reviews_in_last_year_count"] else [{"subject": "reviews", "case": "none-in-year"}]
    f["review_gaps"] = review_gaps + [dict(m, case="no-outcome") for m in missing_outcomes]
    f["disseminations_in_last_year_count"] = sum(1 for d in doc.dissemination if _in_last_year(d.date, as_of))
    f["vision_renewed_in_last_year"] = bool(
        vision and (_in_last_year(vision.adopted, as_of) or _in_last_year(vision.reaffirmed, as_of))
    )
    f["trainings_in_last_year_count"] = sum(1 for t in doc.trainings if _in_last_year(t.date, as_of))

    # counts of every finding list, so rules can test them
    for name in FINDING_LISTS:
        key = f"{name}_count"
        if key in SCALARS:
            f[key] = len(f[name])
    return f
