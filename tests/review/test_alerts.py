"""The health alerts of gates.md, read exactly: boundaries, events after as_of, one per thing."""

from datetime import date, datetime, timedelta

import pytest

from isp_lifecycle.health import PendingApproval, assess, default_checker, health_alerts

from .conftest import fixture_data, variant

AS_OF = date(2027, 9, 1)


def alerts_of(doc, as_of=AS_OF, pending=()):
    _, alerts = assess(doc, as_of, pending)
    return alerts


def named(alerts, name):
    return [a for a in alerts if a["alert"] == name]


def convene_doc(**changes):
    return variant("ke-water-kisumu", **changes)


@pytest.mark.parametrize("stage, days, overdue", [
    ("convene", 180, False), ("convene", 181, True),
    ("commit", 180, False), ("commit", 181, True),
    ("implement", 365, False), ("implement", 366, True),
    ("review", 2000, False),
])
def test_stage_overdue_fires_only_past_180_days_in_convene_or_commit_and_365_in_implement(stage, days, overdue):
    entered = AS_OF - timedelta(days=days)
    doc = variant(stage=stage, started=(entered - timedelta(days=30)).isoformat(), stage_entered=entered.isoformat(),
                  reviews=[{"date": AS_OF.isoformat()}])
    found = named(alerts_of(doc), "stage-overdue")
    assert [a["subject"] for a in found] == (["stage"] if overdue else [])


def test_stage_overdue_counts_from_started_when_stage_entered_is_absent():
    doc = convene_doc(started=(AS_OF - timedelta(days=181)).isoformat(), stage_entered=None)
    assert named(alerts_of(doc), "stage-overdue")
    doc = convene_doc(started=(AS_OF - timedelta(days=180)).isoformat(), stage_entered=None)
    assert not named(alerts_of(doc), "stage-overdue")


@pytest.mark.parametrize("days, overdue", [(365, False), (366, True)])
def test_review_overdue_counts_from_the_latest_review_on_or_before_as_of(days, overdue):
    reviewed = AS_OF - timedelta(days=days)
    doc = variant(stage="review", started="2023-01-01", stage_entered="2024-01-01",
                  reviews=[{"date": reviewed.isoformat()}, {"date": "2025-01-01"},
                           {"date": (AS_OF + timedelta(days=3)).isoformat()}])  # not happened yet
    assert bool(named(alerts_of(doc), "review-overdue")) is overdue


@pytest.mark.parametrize("days, overdue", [(365, False), (366, True)])
def test_review_overdue_counts_from_entering_the_stage_when_that_is_later(days, overdue):
    entered = AS_OF - timedelta(days=days)
    doc = variant(stage="implement", stage_entered=entered.isoformat(), reviews=[{"date": "2020-01-01"}])
    assert bool(named(alerts_of(doc), "review-overdue")) is overdue


def test_review_overdue_is_not_raised_before_implement():
    doc = variant(stage="commit", stage_entered=AS_OF.isoformat(), started="2015-01-01", reviews=[])
    assert not named(alerts_of(doc), "review-overdue")


def test_milestone_overdue_is_raised_once_per_milestone_due_before_as_of_and_not_done_by_then():
    data = fixture_data()
    milestones = data["initiatives"][0]["milestones"]
    milestones[:] = [
        {"name": "due today", "due": AS_OF.isoformat()},
        {"name": "due yesterday", "due": (AS_OF - timedelta(days=1)).isoformat()},
        {"name": "done late, after as_of", "due": "2027-01-01", "done": (AS_OF + timedelta(days=1)).isoformat()},
        {"name": "done on as_of", "due": "2027-01-01", "done": AS_OF.isoformat()},
    ]
    doc = variant(initiatives=data["initiatives"], stage_entered=AS_OF.isoformat())
    found = named(alerts_of(doc), "milestone-overdue")
    first = data["initiatives"][0]["id"]
    assert [a["subject"] for a in found] == [f"initiatives.{first}.milestones[1]", f"initiatives.{first}.milestones[2]"]


@pytest.mark.parametrize("until_offset, expiring", [(180, True), (181, False), (0, True), (-10, True)])
def test_commitment_expiring_looks_at_until_up_to_180_days_after_as_of(until_offset, expiring):
    data = fixture_data()
    for partner in data["partners"]:
        partner["commitment"]["until"] = "2040-01-01"
    data["partners"][1]["commitment"]["until"] = (AS_OF + timedelta(days=until_offset)).isoformat()
    doc = variant(partners=data["partners"])
    found = named(alerts_of(doc), "commitment-expiring")
    assert [a["subject"] for a in found] == ([f"partners.{data['partners'][1]['id']}"] if expiring else [])


def test_a_partner_without_commitment_or_until_has_nothing_to_expire():
    data = fixture_data()
    data["partners"][0].pop("commitment")
    data["partners"][1]["commitment"].pop("until")
    data["partners"][2]["commitment"]["until"] = "2040-01-01"
    assert not named(alerts_of(variant(partners=data["partners"])), "commitment-expiring")


@pytest.mark.parametrize("days, pending", [(7, False), (8, True)])
def test_approval_pending_fires_after_the_reminder_period_by_utc_date_of_the_request(days, pending):
    requested = datetime.combine(AS_OF - timedelta(days=days), datetime.max.time())  # late that UTC day
    request = PendingApproval(41, requested, "implement", "review")
    found = named(alerts_of(variant(), pending=[request]), "approval-pending")
    assert [a["subject"] for a in found] == (["approval_requests.41"] if pending else [])


def test_the_reminder_period_is_a_parameter():
    request = PendingApproval(1, datetime(2027, 8, 29, 9), "commit", "implement")
    doc = variant()
    facts = default_checker().facts(doc, AS_OF)
    assert named(health_alerts(doc, AS_OF, facts, [request], remind=2), "approval-pending")
    assert not named(health_alerts(doc, AS_OF, facts, [request], remind=3), "approval-pending")


def test_alerts_are_ordered_by_alert_name():
    doc = variant(stage="implement", started="2025-01-01", stage_entered="2025-01-01", reviews=[])
    request = PendingApproval(3, datetime(2027, 1, 1), "implement", "review")
    names = [a["alert"] for a in alerts_of(doc, date(2029, 6, 1), [request])]
    assert names == sorted(names)
    assert {"approval-pending", "commitment-expiring", "milestone-overdue", "review-overdue", "stage-overdue"} == set(names)
