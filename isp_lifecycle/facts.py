"""The facts projection: a document, a gate and a date → the flat values rules compare.

Rules never see the document. They compare the scalars here (counts, booleans,
day differences), so that the engine does no arithmetic, no date handling and no
list walking (``docs/rules.md`` explains why). Lists of offending things ride along
as finding lists so that a rule that fires can report one finding per partner,
initiative or milestone; those lists are JSON-safe but are never sent to the engine.

Every fact is declared once, below, by the function that computes it and the kind
it is: a **scalar** (``int`` or ``bool``: what conditions compare), a **finding
list** (with the keys each item carries, so the rule loader can check a message's
``{placeholders}``; a counted list also yields the scalar ``<name>_count``), or a
**message parameter** (a string only messages read). ``SCALARS``, ``FINDING_LISTS``
and ``PARAMETERS`` are derived from that catalogue; the rule loader refuses any
other name, and the property test draws random facts from ``SCALARS``.

The reading rules of ``docs/spec/gates.md`` live here and nowhere else:
- events dated after ``as_of`` have not happened (signatures, agreements, vision
  dates, milestone ``done``, dissemination, review and training dates);
- windows are inclusive: ``as_of - 365 ≤ date ≤ as_of``;
- "3 years" is calendar years, 29 February reaching 28 February;
- a blank string counts as missing; contacts are counted by distinct email.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .model import SECTORS, Partnership

GATES = ("convene", "commit", "implement", "review")
SECTOR_NAMES = {"public": "government (public)", "private": "business (private)", "civil_society": "civil society"}

SCALAR, FINDING_LIST, PARAMETER = "scalar", "finding list", "message parameter"


class Fact:
    """One declared fact. ``keys``: for a finding list, the keys every item may carry;
    ``cases``: for a list whose items name a ``case``, the keys an item of each case carries.

    A plain class rather than a dataclass: building a dataclass costs ``isp check`` start-up
    about half a millisecond, for nothing the catalogue needs.
    """

    __slots__ = ("name", "kind", "type", "compute", "keys", "cases")

    def __init__(self, name: str, kind: str, type_: type, compute: Callable[["Reading", dict[str, Any]], Any],
                 keys: frozenset[str] = frozenset(), cases: dict[str, frozenset[str]] | None = None) -> None:
        self.name, self.kind, self.type, self.compute = name, kind, type_, compute
        self.keys, self.cases = keys, cases or {}

    def __repr__(self) -> str:
        return f"Fact({self.name!r}, {self.kind})"


CATALOGUE: list[Fact] = []


def scalar(kind: type) -> Callable:
    """Declare a scalar fact (``int`` or ``bool``) computed by the decorated function."""

    def declare(fn: Callable) -> Callable:
        CATALOGUE.append(Fact(fn.__name__, SCALAR, kind, fn))
        return fn

    return declare


def parameter(fn: Callable) -> Callable:
    """Declare a message parameter: a string messages and subjects may name, never compared."""
    CATALOGUE.append(Fact(fn.__name__, PARAMETER, str, fn))
    return fn


def finding_list(*keys: str, counted: bool = True, cases: dict[str, tuple[str, ...]] | None = None) -> Callable:
    """Declare a finding list whose items carry ``subject`` and ``keys`` (and, per case, ``cases``).

    ``counted``: also declare the scalar ``<name>_count``, its length, for conditions.
    """

    def declare(fn: Callable) -> Callable:
        by_case = {case: frozenset(("subject", "case", *extra)) for case, extra in (cases or {}).items()}
        every = frozenset(("subject", *keys)).union(*by_case.values())
        CATALOGUE.append(Fact(fn.__name__, FINDING_LIST, list, fn, every, by_case))
        if counted:
            name = fn.__name__
            CATALOGUE.append(Fact(f"{name}_count", SCALAR, int, lambda _r, f: len(f[name])))
        return fn

    return declare


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


def add_years(day: date, years: int) -> date:
    """Calendar years; 29 February lands on 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def happened(day: date | None, as_of: date) -> bool:
    """An event dated after ``as_of`` has not happened yet (the review reads dates the same way)."""
    return day is not None and day <= as_of


def in_last_year(day: date | None, as_of: date) -> bool:
    return day is not None and as_of - timedelta(days=365) <= day <= as_of


def _partner(p) -> dict[str, Any]:
    return {"subject": f"partners.{p.id}", "id": p.id, "name": p.name}


class Reading:
    """One document read as of one date, with what several facts share computed once."""

    __slots__ = ("doc", "as_of", "partners", "government_core", "latest")

    def __init__(self, doc: Partnership, as_of: date, government_core: frozenset[str] | set[str]) -> None:
        self.doc, self.as_of, self.government_core = doc, as_of, government_core
        self.partners = doc.partners
        past = [(r.date, k, r) for k, r in enumerate(doc.reviews) if r.date <= as_of]
        # (index, review) of the latest review dated on or before as_of, wherever it is listed
        self.latest = max(past, key=lambda t: (t[0], t[1]))[1:] if past else None


# ------------------------------------------------------------------ convene

@finding_list("sector", "sector_name")
def sectors_missing(r: Reading, f) -> list:
    present = {p.sector for p in r.partners}
    return [{"subject": f"sectors.{s}", "sector": s, "sector_name": SECTOR_NAMES[s]} for s in SECTORS if s not in present]


@scalar(int)
def partners_count(r: Reading, f) -> int:
    return len(r.partners)


@finding_list("id", "name")
def partners_without_capacity(r: Reading, f) -> list:
    return [_partner(p) for p in r.partners if p.capacity is None]


@finding_list("id", "name", "capacity")
def partners_without_capacity_plan(r: Reading, f) -> list:
    return [
        dict(_partner(p), capacity=p.capacity)
        for p in r.partners
        if p.capacity in ("developing", "needs_support") and not _has(p.capacity_plan)
    ]


@finding_list("what")
def issue_gaps(r: Reading, f) -> list:
    issue = r.doc.issue
    stakes = issue.stakes if issue else None
    gaps = []
    if not (issue and _has(issue.statement)):
        gaps.append({"subject": "issue.statement", "what": "the issue statement"})
    for s in SECTORS:
        if not (stakes and _has(getattr(stakes, s))):
            gaps.append({"subject": f"issue.stakes.{s}", "what": f"the {SECTOR_NAMES[s]} stake"})
    return gaps


@scalar(int)
def local_partners_count(r: Reading, f) -> int:
    return sum(1 for p in r.partners if p.local)


@scalar(int)
def leaders_count(r: Reading, f) -> int:
    return len(r.doc.leaders)


@scalar(bool)
def has_mission_director(r: Reading, f) -> bool:
    return r.doc.mission_director is not None


@scalar(int)
def multi_sector_leaders_count(r: Reading, f) -> int:
    return sum(1 for leader in r.doc.leaders if len(set(leader.sectors)) >= 2)


@scalar(bool)
def has_local_context(r: Reading, f) -> bool:
    return _has(r.doc.local_context)


@finding_list("id", "name", "contacts")
def partners_with_few_contacts(r: Reading, f) -> list:
    few = []
    for p in r.partners:
        distinct = len({c.email.lower() for c in p.contacts})
        if distinct < 2:
            few.append(dict(_partner(p), contacts=distinct))
    return few


# ------------------------------------------------------------------ commit

@finding_list("id", "name")
def partners_without_goals(r: Reading, f) -> list:
    return [_partner(p) for p in r.partners if not any(_has(g) for g in p.goals)]


@finding_list("id", "name", "reason")
def partners_without_commitment(r: Reading, f) -> list:
    out = []
    for p in r.partners:
        c = p.commitment
        if c is None or not happened(c.signed, r.as_of):
            out.append(dict(_partner(p), reason="has not signed a commitment"))
        elif not c.resources:
            out.append(dict(_partner(p), reason="has signed a commitment that pledges no resource"))
    return out


@finding_list("id", "name")
def partners_without_motives(r: Reading, f) -> list:
    return [_partner(p) for p in r.partners if not _has(p.motives)]


@scalar(bool)
def has_accountability_agreement(r: Reading, f) -> bool:
    gov = r.doc.governance
    return bool(gov and happened(gov.accountability_agreement, r.as_of))


@scalar(bool)
def has_vision_statement(r: Reading, f) -> bool:
    return bool(r.doc.vision and _has(r.doc.vision.statement))


@scalar(bool)
def vision_adopted(r: Reading, f) -> bool:
    return bool(r.doc.vision and happened(r.doc.vision.adopted, r.as_of))


@finding_list("id", "name", "sector", "responsibilities")
def partners_holding_government_core(r: Reading, f) -> list:
    return [
        dict(_partner(p), sector=p.sector, responsibilities=", ".join(held))
        for p in r.partners
        if p.sector != "public" and (held := [x for x in p.responsibilities if x in r.government_core])
    ]


@scalar(bool)
def governance_is_network(r: Reading, f) -> bool:
    return bool(r.doc.governance and r.doc.governance.structure == "network")


@scalar(bool)
def governance_opt_out_allowed(r: Reading, f) -> bool:
    return bool(r.doc.governance and r.doc.governance.opt_out_allowed)


@finding_list("what")
def governance_gaps(r: Reading, f) -> list:
    gaps = []
    if not f["governance_is_network"]:
        gaps.append({"subject": "governance.structure", "what": "the partnership is not set up as a network"})
    if not f["governance_opt_out_allowed"]:
        gaps.append({"subject": "governance.opt_out_allowed", "what": "partners may not opt out of initiatives"})
    return gaps


@scalar(int)
def local_partners_with_authority_count(r: Reading, f) -> int:
    return sum(1 for p in r.partners if p.local and p.decision_authority)


@scalar(int)
def financial_pledges_count(r: Reading, f) -> int:
    return sum(1 for p in r.partners if p.commitment for x in p.commitment.resources if x.kind == "financial")


@finding_list("id", "name", "until")
def partners_with_short_commitment(r: Reading, f) -> list:
    short = []
    for p in r.partners:
        c = p.commitment
        signed = c.signed if c and happened(c.signed, r.as_of) else None
        until = c.until if c else None
        if signed is None or until is None or until < add_years(signed, 3):
            short.append(dict(_partner(p), until=until.isoformat() if until else "not set"))
    return short


@scalar(bool)
def governance_own_rules_adopted(r: Reading, f) -> bool:
    return bool(r.doc.governance and r.doc.governance.own_rules_adopted)


# ------------------------------------------------------------------ implement

@scalar(int)
def initiatives_count(r: Reading, f) -> int:
    return len(r.doc.initiatives)


@finding_list(cases={"no-milestone": ("id", "name"), "none": ()})
def initiative_gaps(r: Reading, f) -> list:
    if not r.doc.initiatives:
        return [{"subject": "initiatives", "case": "none"}]
    return [
        {"subject": f"initiatives.{i.id}", "id": i.id, "name": i.name, "case": "no-milestone"}
        for i in r.doc.initiatives
        if not i.milestones
    ]


@scalar(int)
def initiatives_without_milestones_count(r: Reading, f) -> int:
    return sum(1 for i in r.doc.initiatives if not i.milestones)


@scalar(int)
def milestones_done_count(r: Reading, f) -> int:
    return sum(1 for i in r.doc.initiatives for m in i.milestones if happened(m.done, r.as_of))


@scalar(int)
def initiatives_led_by_local_count(r: Reading, f) -> int:
    local_ids = {p.id for p in r.partners if p.local}
    return sum(1 for i in r.doc.initiatives if i.lead in local_ids)


@finding_list("id", "name", "led", "total", counted=False)
def lead_concentration(r: Reading, f) -> list:
    initiatives = r.doc.initiatives
    leads: dict[str, int] = {}
    for i in initiatives:
        leads[i.lead] = leads.get(i.lead, 0) + 1
    names = {p.id: p.name for p in r.partners}
    return [
        {"subject": f"partners.{pid}", "id": pid, "name": names.get(pid, pid), "led": n, "total": len(initiatives)}
        for pid, n in leads.items()
        if len(initiatives) >= 2 and 2 * n > len(initiatives)
    ]


@scalar(bool)
def largest_lead_share_exceeds_half(r: Reading, f) -> bool:
    return bool(f["lead_concentration"])


@finding_list("initiative", "name", "due", "days")
def milestones_overdue(r: Reading, f) -> list:
    as_of = r.as_of
    return [
        {"subject": f"initiatives.{i.id}.milestones[{k}]", "initiative": i.name, "name": m.name,
         "due": m.due.isoformat(), "days": (as_of - m.due).days}
        for i in r.doc.initiatives
        for k, m in enumerate(i.milestones)
        if m.due < as_of and not happened(m.done, as_of)
    ]


@scalar(int)
def disseminations_count(r: Reading, f) -> int:
    return sum(1 for d in r.doc.dissemination if happened(d.date, r.as_of))


@finding_list("id", "name", "until", "ended")
def partners_with_expiring_commitment(r: Reading, f) -> list:
    horizon = r.as_of + timedelta(days=180)
    return [
        dict(_partner(p), until=p.commitment.until.isoformat(), ended=p.commitment.until < r.as_of)
        for p in r.partners
        if p.commitment and p.commitment.until and p.commitment.until <= horizon
    ]


# ------------------------------------------------------------------ review

@scalar(int)
def reviews_in_last_year_count(r: Reading, f) -> int:
    return sum(1 for x in r.doc.reviews if in_last_year(x.date, r.as_of))


@scalar(bool)
def has_latest_review(r: Reading, f) -> bool:
    return r.latest is not None


@finding_list("sector", "sector_name", "date")
def latest_review_sectors_without_outcome(r: Reading, f) -> list:
    if r.latest is None:
        return []
    k, review = r.latest
    return [
        {"subject": f"reviews[{k}].outcomes.{s}", "sector": s, "sector_name": SECTOR_NAMES[s],
         "date": review.date.isoformat()}
        for s in SECTORS
        if not (review.outcomes and any(_has(o) for o in getattr(review.outcomes, s)))
    ]


@scalar(bool)
def latest_review_adapted(r: Reading, f) -> bool:
    return bool(r.latest and (r.latest[1].goals_adapted or r.latest[1].new_partners_considered))


@scalar(int)
def latest_review_assumptions_challenged_count(r: Reading, f) -> int:
    return sum(1 for a in r.latest[1].assumptions_challenged if _has(a)) if r.latest else 0


@parameter
def latest_review_subject(r: Reading, f) -> str:
    return f"reviews[{r.latest[0]}]" if r.latest else "reviews"


@parameter
def latest_review_date(r: Reading, f) -> str:
    return r.latest[1].date.isoformat() if r.latest else ""


@finding_list(cases={"none-in-year": (), "no-outcome": ("sector", "sector_name", "date")})
def review_gaps(r: Reading, f) -> list:
    gaps = [] if f["reviews_in_last_year_count"] else [{"subject": "reviews", "case": "none-in-year"}]
    return gaps + [dict(m, case="no-outcome") for m in f["latest_review_sectors_without_outcome"]]


@scalar(int)
def disseminations_in_last_year_count(r: Reading, f) -> int:
    return sum(1 for d in r.doc.dissemination if in_last_year(d.date, r.as_of))


@scalar(bool)
def vision_renewed_in_last_year(r: Reading, f) -> bool:
    v = r.doc.vision
    return bool(v and (in_last_year(v.adopted, r.as_of) or in_last_year(v.reaffirmed, r.as_of)))


@scalar(int)
def trainings_in_last_year_count(r: Reading, f) -> int:
    return sum(1 for t in r.doc.trainings if in_last_year(t.date, r.as_of))


# ------------------------------------------------------------------ derived from the catalogue

FACTS: dict[str, Fact] = {fact.name: fact for fact in CATALOGUE}
SCALARS: dict[str, type] = {f.name: f.type for f in CATALOGUE if f.kind == SCALAR}
FINDING_LISTS: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == FINDING_LIST)
PARAMETERS: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == PARAMETER)
_COMPUTE = tuple((fact.name, fact.compute) for fact in CATALOGUE)


def project(doc: Partnership, as_of: date, government_core: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """All facts for ``doc`` as of ``as_of``: every name of the catalogue, in its order.

    ``government_core`` is the rule pack's vocabulary of responsibilities that only
    government may hold (rule data, not code).
    """
    reading = Reading(doc, as_of, government_core)
    f: dict[str, Any] = {}
    for name, compute in _COMPUTE:
        f[name] = compute(reading, f)
    return f
