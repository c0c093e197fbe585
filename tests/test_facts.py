"""The facts projection reads time and counts exactly as gates.md says."""

from datetime import date

import pytest

from isp_lifecycle.cases import apply
from isp_lifecycle.document import validate
from isp_lifecycle.facts import SCALARS, add_years, project

AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="module")
def base(base_and_cases):
    return base_and_cases[0]


def facts(base, changes=None, as_of=AS_OF):
    return project(validate(apply(base, changes or {})), as_of, {"national_health_services"})


@pytest.mark.parametrize(
    "start, years, end",
    [(date(2026, 6, 15), 3, date(2029, 6, 15)), (date(2024, 2, 29), 3, date(2027, 2, 28)),
     (date(2024, 2, 29), 4, date(2028, 2, 29))],
)
def test_years_are_calendar_years_and_29_february_reaches_28_february(start, years, end):
    assert add_years(start, years) == end


def test_every_scalar_fact_is_present_with_its_declared_type(base):
    f = facts(base)
    for name, kind in SCALARS.items():
        assert type(f[name]) is kind, name


def test_the_last_year_window_is_inclusive_at_both_ends(base):
    assert facts(base, {"trainings[0].date": "2025-11-27"})["trainings_in_last_year_count"] == 1
    assert facts(base, {"trainings[0].date": "2026-11-27"})["trainings_in_last_year_count"] == 1
    assert facts(base, {"trainings[0].date": "2025-11-26"})["trainings_in_last_year_count"] == 0
    assert facts(base, {"trainings[0].date": "2026-11-28"})["trainings_in_last_year_count"] == 0


def test_events_after_as_of_have_not_happened(base):
    f = facts(base, as_of=date(2026, 6, 11))  # after ghs signed, before the others
    assert [p["id"] for p in f["partners_without_commitment"]] == ["tamale-mobile", "nmwa"]
    assert f["has_accountability_agreement"] is False and f["vision_adopted"] is False
    assert f["milestones_done_count"] == 0


def test_the_latest_review_is_the_latest_dated_on_or_before_as_of_wherever_it_is_listed(base):
    older = {"date": "2026-03-01", "outcomes": {"public": ["x"]}}
    future = {"date": "2026-12-15", "goals_adapted": False}
    f = facts(base, {"reviews[1]": older, "reviews[2]": future})
    assert f["latest_review_subject"] == "reviews[0]"
    assert f["latest_review_adapted"] is True
    f = facts(base, {"reviews[0].date": "2026-01-01", "reviews[1]": dict(older, date="2026-03-01")})
    assert f["latest_review_subject"] == "reviews[1]"
    assert [m["sector"] for m in f["latest_review_sectors_without_outcome"]] == ["private", "civil_society"]


def test_without_a_past_review_only_the_missing_review_is_raised(base):
    f = facts(base, {"reviews[0].date": "2026-12-01"})
    assert f["has_latest_review"] is False
    assert [g["subject"] for g in f["review_gaps"]] == ["reviews"]


def test_contacts_are_counted_by_distinct_email_case_insensitively(base):
    f = facts(base, {"partners[0].contacts[1].email": "Ama@GHS.example.org"})
    assert [(p["id"], p["contacts"]) for p in f["partners_with_few_contacts"]] == [("ghs", 1)]


def test_more_than_half_is_strict(base):
    two_of_four = {
        "initiatives[2]": {"id": "cc", "name": "C", "lead": "tamale-mobile", "partners": ["tamale-mobile"]},
        "initiatives[3]": {"id": "dd", "name": "D", "lead": "ghs", "partners": ["ghs"]},
    }
    assert facts(base, two_of_four)["largest_lead_share_exceeds_half"] is False
    three_of_four = dict(two_of_four)
    three_of_four["initiatives[3]"] = {"id": "dd", "name": "D", "lead": "tamale-mobile", "partners": ["tamale-mobile"]}
    f = facts(base, three_of_four)
    assert [(c["id"], c["led"], c["total"]) for c in f["lead_concentration"]] == [("tamale-mobile", 3, 4)]


def test_expiry_looks_at_until_alone(base):
    f = facts(base, {"partners[2].commitment.signed": None, "partners[2].commitment.until": "2027-01-01",
                     "partners[1].commitment": None})
    assert [p["id"] for p in f["partners_with_expiring_commitment"]] == ["nmwa"]


def test_the_projection_holds_exactly_the_declared_catalogue(base):
    from isp_lifecycle.facts import FACTS

    assert list(facts(base)) == list(FACTS)


def test_every_finding_item_carries_only_the_keys_its_list_declares(base_and_cases):
    """The keys the rule loader lets messages name are the keys the items really carry."""
    from isp_lifecycle.cases import document_for
    from isp_lifecycle.facts import FACTS, FINDING_LISTS

    base, cases = base_and_cases
    seen: set[str] = set()
    for case in cases:
        f = project(document_for(base, case), case.as_of, {"national_health_services"})
        for name in FINDING_LISTS:
            declared = FACTS[name]
            for item in f[name]:
                expected = declared.cases[item["case"]] if declared.cases else declared.keys
                assert set(item) == expected, (case.label, name, item)
                seen.add(name)
    assert seen == set(FINDING_LISTS), "every list is exercised by some case"
