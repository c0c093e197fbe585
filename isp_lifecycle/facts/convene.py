"""The convene gate's facts: each declared once, by the function that computes it (see ``catalogue``)."""

from ..model import SECTORS
from .catalogue import SECTOR_NAMES, Reading, finding_list, has_text, partner_item, scalar


@finding_list("sector", "sector_name")
def sectors_missing(r: Reading, f) -> list:
    present = {p.sector for p in r.partners}
    return [{"subject": f"sectors.{s}", "sector": s, "sector_name": SECTOR_NAMES[s]} for s in SECTORS if s not in present]


@scalar(int)
def partners_count(r: Reading, f) -> int:
    return len(r.partners)


@finding_list("id", "name")
def partners_without_capacity(r: Reading, f) -> list:
    return [partner_item(p) for p in r.partners if p.capacity is None]


@finding_list("id", "name", "capacity")
def partners_without_capacity_plan(r: Reading, f) -> list:
    return [
        dict(partner_item(p), capacity=p.capacity)
        for p in r.partners
        if p.capacity in ("developing", "needs_support") and not has_text(p.capacity_plan)
    ]


@finding_list("what")
def issue_gaps(r: Reading, f) -> list:
    issue = r.doc.issue
    stakes = issue.stakes if issue else None
    gaps = []
    if not (issue and has_text(issue.statement)):
        gaps.append({"subject": "issue.statement", "what": "the issue statement"})
    for s in SECTORS:
        if not (stakes and has_text(getattr(stakes, s))):
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
    return has_text(r.doc.local_context)


@finding_list("id", "name", "contacts")
def partners_with_few_contacts(r: Reading, f) -> list:
    few = []
    for p in r.partners:
        distinct = len({c.email.lower() for c in p.contacts})
        if distinct < 2:
            few.append(dict(partner_item(p), contacts=distinct))
    return few
