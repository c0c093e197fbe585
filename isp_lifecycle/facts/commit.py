"""The commit gate's facts: each declared once, by the function that computes it (see ``catalogue``)."""

from .catalogue import Reading, add_years, finding_list, happened, has_text, partner_item, scalar


@finding_list("id", "name")
def partners_without_goals(r: Reading, f) -> list:
    return [partner_item(p) for p in r.partners if not any(has_text(g) for g in p.goals)]


@finding_list("id", "name", "reason")
def partners_without_commitment(r: Reading, f) -> list:
    out = []
    for p in r.partners:
        c = p.commitment
        if c is None or not happened(c.signed, r.as_of):
            out.append(dict(partner_item(p), reason="has not signed a commitment"))
        elif not c.resources:
            out.append(dict(partner_item(p), reason="has signed a commitment that pledges no resource"))
    return out


@finding_list("id", "name")
def partners_without_motives(r: Reading, f) -> list:
    return [partner_item(p) for p in r.partners if not has_text(p.motives)]


@scalar(bool)
def has_accountability_agreement(r: Reading, f) -> bool:
    gov = r.doc.governance
    return bool(gov and happened(gov.accountability_agreement, r.as_of))


@scalar(bool)
def has_vision_statement(r: Reading, f) -> bool:
    return bool(r.doc.vision and has_text(r.doc.vision.statement))


@scalar(bool)
def vision_adopted(r: Reading, f) -> bool:
    return bool(r.doc.vision and happened(r.doc.vision.adopted, r.as_of))


@finding_list("id", "name", "sector", "responsibilities")
def partners_holding_government_core(r: Reading, f) -> list:
    return [
        dict(partner_item(p), sector=p.sector, responsibilities=", ".join(held))
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
            short.append(dict(partner_item(p), until=until.isoformat() if until else "not set"))
    return short


@scalar(bool)
def governance_own_rules_adopted(r: Reading, f) -> bool:
    return bool(r.doc.governance and r.doc.governance.own_rules_adopted)
