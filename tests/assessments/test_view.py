"""What the pages read: ratings by sector, comments under the organisation, trend, disagreement with the rules."""

from datetime import date

from isp_lifecycle import assessments_view

from .conftest import later, run, two_partnerships
from .test_alert import CIVIL, PRIVATE, PUBLIC, answer


def summary(store):
    with store.sessions() as session:
        return assessments_view.summary(session, "gh-mnh-north")


def test_nothing_is_shown_before_anyone_answers(store, enabled):
    two_partnerships(store)
    run(store)
    assert summary(store) is None


def test_two_red_sectors_where_the_rules_find_nothing_and_green_where_they_do_are_both_said(store, enabled):
    two_partnerships(store)
    first = run(store).review_id
    answer(store, PUBLIC, first, 1, flexibility="red", long_term_small_steps="green")
    answer(store, CIVIL, first, 1, flexibility="red", long_term_small_steps="green")
    answer(store, PRIVATE, first, 1, flexibility="green", long_term_small_steps="green")
    seen = {p["slug"]: p for p in summary(store)["principles"]}
    assert [(s["sector"], s["rating"]) for s in seen["flexibility"]["sectors"]] == [
        ("public", "red"), ("private", "green"), ("civil_society", "red")]
    assert seen["flexibility"]["rating"] == "red"  # (0 + 2 + 0) / 3, rounded down
    assert seen["flexibility"]["disagreement"] == "The rules find nothing wanting here, but 2 of 3 sectors rate it red."
    # the implement gate finds a milestone wanting in gh-mnh-north (long-term-small-steps)
    assert seen["long-term-small-steps"]["disagreement"].endswith("yet the partners rate it green.")


def test_the_trend_follows_the_rounds_of_successive_reviews(store, enabled):
    two_partnerships(store)
    first = run(store).review_id
    answer(store, PUBLIC, first, 1, flexibility="green")
    second = run(store, date(2027, 9, 8), later(7)).review_id
    answer(store, PUBLIC, second, 8, flexibility="amber")
    trend = {p["slug"]: p["trend"] for p in summary(store)["principles"]}["flexibility"]
    assert trend == [{"as_of": date(2027, 9, 1), "rating": "green"}, {"as_of": date(2027, 9, 8), "rating": "amber"}]


def test_a_declined_assessment_counts_for_nothing(store, enabled):
    from isp_lifecycle import assessments_form as form

    from .conftest import at

    two_partnerships(store)
    first = run(store).review_id
    answer(store, PUBLIC, first, 1, flexibility="red")
    form.decline(store, PUBLIC, "gh-mnh-north", first, at(later(2)))
    assert summary(store) is None
