"""The implement gate's facts: each declared once, by the function that computes it (see ``catalogue``)."""

from datetime import timedelta

from .catalogue import Reading, finding_list, happened, partner_item, scalar


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
        dict(partner_item(p), until=p.commitment.until.isoformat(), ended=p.commitment.until < r.as_of)
        for p in r.partners
        if p.commitment and p.commitment.until and p.commitment.until <= horizon
    ]
