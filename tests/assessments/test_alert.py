"""``partners-concerned``: raised by the review after partners' answers, cleared when they change."""

from datetime import date

from sqlalchemy import select

from isp_lifecycle import assessments_form as form
from isp_lifecycle import review_results
from isp_lifecycle.health import partners_concerned
from isp_lifecycle.store.models import StandingAlert

from .conftest import at, contact, later, messages, run, two_partnerships

PUBLIC, PRIVATE, CIVIL = (contact(e) for e in ("ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com",
                                                "hawa.issah@nmwa.example.org"))


def concerned(store, review_id) -> set:
    return {(r.partnership_id, a["subject"]) for r in review_results.results(store, review_id)
            for a in r.alerts if a["alert"] == "partners-concerned"}


def answer(store, who, review_id, days, **ratings):
    fields = {f"rating.{k.replace('_', '-')}": v for k, v in ratings.items() if k != "stays"}
    if "stays" in ratings:
        fields["stays.volunteer-training"] = ratings["stays"]
    form.answer(store, who, "gh-mnh-north", review_id, fields, at(later(days)))


def test_two_sectors_rating_red_raise_it_on_the_next_review_and_it_clears_when_they_no_longer_do(store, enabled):
    two_partnerships(store)
    first = run(store).review_id
    assert concerned(store, first) == set()
    answer(store, PUBLIC, first, 2, flexibility="red")
    answer(store, CIVIL, first, 2, flexibility="red", stays="no")
    answer(store, PRIVATE, first, 2, flexibility="green")
    second = run(store, date(2027, 9, 8), later(7)).review_id
    assert concerned(store, second) == {("gh-mnh-north", "principles.flexibility"),
                                        ("gh-mnh-north", "initiatives.volunteer-training.partners.nmwa")}
    told = [p for r, p in messages(store, "health-alert") if r == "ama.mensah@ghs.example.org"]
    said = [a["message"] for p in told for a in p["alerts"] if a["alert"] == "partners-concerned"]
    assert "Partners are concerned about flexibility: 2 of 3 sectors (public sector and civil society) rate it red." in said
    assert "'Northern Midwives Association' would like to stop taking part in initiative 'volunteer-training'." in said
    for who in (PUBLIC, CIVIL, PRIVATE):
        answer(store, who, second, 9, flexibility="green", stays="yes")
    third = run(store, date(2027, 9, 15), later(14)).review_id
    assert concerned(store, third) == set()
    with store.sessions.begin() as session:
        cleared = session.scalars(select(StandingAlert.cleared_at).where(StandingAlert.alert == "partners-concerned"))
        assert set(cleared) == {date(2027, 9, 15)}


def test_answers_given_after_the_review_date_wait_for_the_next_review(store, enabled):
    two_partnerships(store)
    first = run(store).review_id
    answer(store, PUBLIC, first, 8, flexibility="red")
    answer(store, CIVIL, first, 8, flexibility="red")
    assert concerned(store, run(store, date(2027, 9, 8), later(7)).review_id) == set()
    assert concerned(store, run(store, date(2027, 9, 9), later(9)).review_id) == {
        ("gh-mnh-north", "principles.flexibility")}


def test_a_principle_fallen_two_steps_since_the_previous_round_raises_it_one_step_does_not(store, enabled):
    two_partnerships(store)
    first = run(store).review_id
    for who in (PUBLIC, PRIVATE, CIVIL):
        answer(store, who, first, 1, local_ownership="green", flexibility="green")
    second = run(store, date(2027, 9, 8), later(7)).review_id
    answer(store, PUBLIC, second, 8, local_ownership="red", flexibility="amber")
    third = run(store, date(2027, 9, 15), later(14)).review_id
    assert concerned(store, third) == {("gh-mnh-north", "principles.local-ownership")}


def test_the_pure_rule_counts_sectors_not_people():
    one_sector = {"flexibility": {"public": "red"}}
    assert partners_concerned(one_sector, None) == []
    two = {"flexibility": {"public": "red", "private": "red", "civil_society": "green"}}
    assert [a["subject"] for a in partners_concerned(two, None)] == ["principles.flexibility"]
    assert partners_concerned({"shared-vision": {"public": "amber"}}, {"shared-vision": {"public": "green"}}) == []
