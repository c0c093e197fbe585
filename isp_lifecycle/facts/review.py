"""The review gate's facts: each declared once, by the function that computes it (see ``catalogue``)."""

from ..model import SECTORS
from .catalogue import SECTOR_NAMES, Reading, finding_list, has_text, in_last_year, parameter, scalar


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
        if not (review.outcomes and any(has_text(o) for o in getattr(review.outcomes, s)))
    ]


@scalar(bool)
def latest_review_adapted(r: Reading, f) -> bool:
    return bool(r.latest and (r.latest[1].goals_adapted or r.latest[1].new_partners_considered))


@scalar(int)
def latest_review_assumptions_challenged_count(r: Reading, f) -> int:
    return sum(1 for a in r.latest[1].assumptions_challenged if has_text(a)) if r.latest else 0


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
