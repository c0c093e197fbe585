"""Truthful reviews: a review run again says it is the recorded one and when it ran, new and
cleared alerts are counted against the previous review of the same scope, and a partnership
that moved after the review's date is said to have moved, never given a negative age."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from isp_lifecycle import portfolio_page, report, review, review_results, services
from isp_lifecycle.cli import main
from isp_lifecycle.notifications.render import alert_name
from isp_lifecycle.store.models import PortfolioReviewResult

from ..store.conftest import doc, verdict_for
from .conftest import dump, fail_on, fixed_clock, fixture_data, variant
from .test_review import load_portfolio, milestone_done

RAN_AT = datetime(2027, 9, 1, 8, 0)
LEADER, DIRECTOR = "ama.mensah@ghs.example.org", "kboateng@mission.example.org"


def isp_review(capsys, *args):
    capsys.readouterr()
    code = main(["review", "--no-prefect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def move_to_review(store, on: date):
    """gh-mnh-north (implement since 2026-07-01) moved to review through the lifecycle, on ``on``."""
    moment = fixed_clock(datetime.combine(on, datetime.min.time().replace(hour=9)))
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=on, clock=moment)
    services.request_approval(store, "gh-mnh-north", requested_by=LEADER, clock=moment)
    services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=True, clock=moment)
    services.move_stage(store, "gh-mnh-north", clock=moment)


# ------------------------------------------------------------------ running a recorded review again

def test_running_a_recorded_review_again_says_it_is_the_one_recorded_and_when_it_ran(store, capsys):
    load_portfolio(store)
    review.run_review(store, date(2027, 9, 1), clock=fixed_clock(RAN_AT))
    before = dump(store)
    code, out, _ = isp_review(capsys, "--as-of", "2027-09-01")
    assert code == 0 and dump(store) == before
    assert out.splitlines()[0] == (
        "the review of every mission as of 2027-09-01 recorded at 2027-09-01 08:00 UTC, shown as recorded: "
        "nothing is recorded or sent again (a review is identified by its date and mission)")


def test_a_first_review_and_its_replay_call_no_alert_new_with_nothing_earlier_to_compare_with(store, capsys):
    load_portfolio(store)
    code, first, _ = isp_review(capsys, "--as-of", "2027-09-01")
    code_again, again, _ = isp_review(capsys, "--as-of", "2027-09-01")
    assert (code, code_again) == (0, 0)
    assert "(new)" not in first + again
    summary = "7 alerts (no earlier review of every mission to compare with)"
    assert first.splitlines()[-1].endswith(summary) and again.splitlines()[-1].endswith(summary)
    assert again.splitlines()[1:] == first.splitlines()  # the recorded lines, under the note


def test_a_recorded_review_run_again_starts_no_prefect_flow(store, capsys, monkeypatch):
    load_portfolio(store)
    review.run_review(store, date(2027, 9, 1))
    from isp_lifecycle.cli import review as review_command

    def no_flow(*args):
        raise AssertionError("a recorded review must not run its flow again")

    monkeypatch.setattr(review_command, "_run_flow", no_flow)
    capsys.readouterr()
    assert main(["review", "--as-of", "2027-09-01", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 6  # the frozen JSON lines alone on stdout
    assert err.startswith("isp review: the review of every mission as of 2027-09-01 recorded at ")


def test_a_partnership_moved_since_the_review_was_recorded_is_shown_in_its_recorded_stage_and_where_it_is_now(
    store, capsys
):
    services.import_document(store, doc(), clock=fixed_clock(datetime(2026, 11, 1)))
    review.run_review(store, date(2026, 11, 27), clock=fixed_clock(datetime(2026, 11, 27, 6)))
    move_to_review(store, date(2026, 12, 2))
    _, out, _ = isp_review(capsys, "--as-of", "2026-11-27")
    assert "gh-mnh-north  implement, 149 days (now in review); implement gate:" in out


def test_completing_an_interrupted_review_says_when_it_started_and_how_far_it_got(store, capsys, monkeypatch):
    load_portfolio(store)
    repair = fail_on(monkeypatch, "ke-fresh", TimeoutError("the database stopped answering"))
    code, _, _ = isp_review(capsys, "--as-of", "2027-09-01", "--chunk-size", "2")
    assert code == 1
    repair()
    code, out, err = isp_review(capsys, "--as-of", "2027-09-01", "--chunk-size", "2")
    assert code == 0 and "recorded at" not in out
    assert "isp review: completing the review of every mission as of 2027-09-01 started at " in err
    assert "(2 of 3 chunks recorded then)" in err


# ------------------------------------------------------------------ new and cleared, against the previous review

def weekly_reviews(store, *missions):
    """One review a week from 2027-09-01, of each of ``missions`` in turn (None: every mission).
    As of 2027-09-01 a milestone of gh-mnh-north (USAID/Ghana) is late; by 2027-09-08 it is done,
    and a commitment ending 2028-03-04 comes within 180 days. The last review's summary."""
    partners = [dict(p, commitment=dict(p["commitment"], until="2028-03-04")) if i == 2 else p
                for i, p in enumerate(fixture_data()["partners"])]
    services.import_document(store, variant(stage_entered="2027-06-01", partners=partners))
    for week, mission in enumerate(missions):
        day = date(2027, 9, 1) + timedelta(weeks=week)
        if week == 1:
            services.import_document(store, milestone_done(stage_entered="2027-06-01", done="2027-09-05",
                                                           partners=partners))
        summary = review.run_review(store, day, mission, clock=fixed_clock(datetime.combine(day, time(8))))
    return summary


def two_reviews(store):
    return weekly_reviews(store, None, None)


def test_new_and_cleared_alerts_are_counted_against_the_previous_review(store, capsys):
    two_reviews(store)
    code, out, _ = isp_review(capsys, "--as-of", "2027-09-08")
    assert code == 0
    assert "    commitment-expiring (new) partners.nmwa: " in out
    assert "    milestone-overdue (cleared) initiatives.referral-hotline.milestones[1]" in out
    assert out.splitlines()[-1].endswith("1 alert (1 new, 1 cleared since the review as of 2027-09-01)")


def test_the_recorded_new_and_cleared_alerts_are_the_same_when_read_again(store):
    summary = two_reviews(store)
    again = review_results.summary(store, summary.review_id)
    assert (again.new_alerts, again.cleared, again.previous) == (1, 1, date(2027, 9, 1))
    (row,) = review_results.results(store, summary.review_id)
    assert [a["alert"] for a in row.new_alerts] == ["commitment-expiring"]
    assert [a["alert"] for a in row.cleared] == ["milestone-overdue"]


def test_a_review_dated_earlier_but_run_later_does_not_change_what_a_recorded_review_compares_with(store):
    summary = two_reviews(store)
    review.run_review(store, date(2027, 9, 5), clock=fixed_clock(datetime(2027, 9, 10)))
    again = review_results.summary(store, summary.review_id)
    assert (again.new_alerts, again.cleared, again.previous) == (1, 1, date(2027, 9, 1))


def test_new_alerts_are_counted_against_the_previous_review_of_the_same_mission_scope(store, capsys):
    load_portfolio(store)
    review.run_review(store, date(2027, 8, 1), clock=fixed_clock(datetime(2027, 8, 1)))
    ghana = review.run_review(store, date(2027, 9, 1), mission="USAID/Ghana", clock=fixed_clock(RAN_AT))
    everyone = review.run_review(store, date(2027, 9, 1), clock=fixed_clock(RAN_AT))
    assert (ghana.previous, ghana.new_alerts) == (None, 0)  # no earlier review of USAID/Ghana
    assert everyone.previous == date(2027, 8, 1)
    # gh-waiting's request (2027-08-24) was not 7 days old on 2027-08-01: new since that review,
    # although the Ghana review of the same day raised it first
    with store.sessions.begin() as session:
        r = PortfolioReviewResult
        new = session.scalar(select(r.new_alerts).where(r.review_id == everyone.review_id,
                                                        r.partnership_id == "gh-waiting"))
    assert [a["alert"] for a in new] == ["approval-pending"]
    _, out, _ = isp_review(capsys, "--as-of", "2027-09-01", "--mission", "usaid/ghana")
    assert out.splitlines()[-1].endswith("alerts (no earlier review of USAID/Ghana to compare with)")


def cleared_on_the_page_and_in_the_report(store) -> tuple[dict, dict, list, dict]:
    """What the portfolio page (of every mission: its latest review) and ``isp report`` call
    cleared: by partnership and by alert on the page; by partnership (in words) and by alert
    (its table of alerts) in the report."""
    page = portfolio_page.view(store, portfolio_page.Scope(True, frozenset()))
    html, _ = report.render(store, web_url=None)
    table = re.findall(r'<span class="slug">([a-z-]+)</span></th><td>\d+</td><td>\d+</td><td>(\d+)</td>', html)
    return ({r["id"]: r["cleared"] for r in page["rows"] if r["cleared"]},
            {k["alert"]: k["cleared"] for k in page["alert_kinds"] if k["cleared"]},
            re.findall(r"Cleared since the previous review: ([^<]*)</p>", html),
            {alert: int(n) for alert, n in table if n != "0"})


def test_the_page_and_the_report_count_an_alert_cleared_against_the_previous_review_of_the_scope(store, capsys):
    """The milestone's alert went in a review of USAID/Ghana; the review of every mission after it
    still clears it, against the previous review of every mission, as ``isp review`` says."""
    weekly_reviews(store, None, "USAID/Ghana", None)
    _, out, _ = isp_review(capsys, "--as-of", "2027-09-15")
    assert "    milestone-overdue (cleared) initiatives.referral-hotline.milestones[1]" in out
    assert out.splitlines()[-1].endswith("(1 new, 1 cleared since the review as of 2027-09-01)")
    on_the_page, by_alert, in_the_report, report_by_alert = cleared_on_the_page_and_in_the_report(store)
    assert on_the_page == {"gh-mnh-north": ["milestone-overdue"]}
    assert by_alert == report_by_alert == {"milestone-overdue": 1}
    assert in_the_report == [alert_name("milestone-overdue")]
    assert "1 alert new, 1 cleared" in portfolio_page.view(store, portfolio_page.Scope(True, frozenset()))["changes"]


def test_the_page_and_the_report_call_no_alert_cleared_by_the_first_review_of_its_scope(store, capsys):
    """The milestone's alert was raised in a review of USAID/Ghana alone: the first review of every
    mission has nothing to compare with, as ``isp review`` says, though the alert went that day."""
    weekly_reviews(store, "USAID/Ghana", None)
    _, out, _ = isp_review(capsys, "--as-of", "2027-09-08")
    assert "(cleared)" not in out
    assert out.splitlines()[-1].endswith("(no earlier review of every mission to compare with)")
    assert cleared_on_the_page_and_in_the_report(store) == ({}, {}, [], {})


# ------------------------------------------------------------------ never a negative age

def test_a_partnership_that_moved_after_the_as_of_date_is_said_to_have_moved_never_a_negative_age(store, capsys):
    services.import_document(store, doc(), clock=fixed_clock(datetime(2026, 11, 1)))
    move_to_review(store, date(2026, 11, 30))
    code, out, _ = isp_review(capsys, "--as-of", "2026-11-27")
    assert code == 0
    assert "gh-mnh-north  moved to review on 2026-11-30, after 2026-11-27; review gate:" in out
    assert "-3 day" not in out and "days" not in out.splitlines()[0]
    assert out.splitlines()[-1].endswith("; 1 moved to their stage after 2026-11-27 (said above)")


def test_the_stored_age_keeps_the_raw_difference_and_the_view_names_the_flag(store):
    services.import_document(store, doc(), clock=fixed_clock(datetime(2026, 11, 1)))
    move_to_review(store, date(2026, 11, 30))
    summary = review.run_review(store, date(2026, 11, 27))
    (row,) = review_results.results(store, summary.review_id)
    assert (row.days_in_stage, row.moved_after_as_of, row.stage_entered) == (-3, True, date(2026, 11, 30))
    assert summary.moved_after == 1


def test_a_moved_partnership_keeps_the_frozen_json_keys(store, capsys):
    import json

    services.import_document(store, doc(), clock=fixed_clock(datetime(2026, 11, 1)))
    move_to_review(store, date(2026, 11, 30))
    code, out, _ = isp_review(capsys, "--as-of", "2026-11-27", "--format", "json")
    (line,) = [json.loads(text) for text in out.splitlines()]
    assert code == 0
    assert list(line) == ["partnership", "stage", "gate", "as_of", "passed", "findings", "alerts"]
    assert (line["stage"], line["as_of"]) == ("review", "2026-11-27")


# ------------------------------------------------------------------ an empty result says why

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_mission_with_only_closed_partnerships_says_why_nothing_was_reviewed(store, capsys, fmt):
    load_portfolio(store)
    services.import_document(store, variant(id="za-closed", stage="closed", mission="USAID/South Africa"))
    code, out, _ = isp_review(capsys, "--as-of", "2027-09-01", "--mission", "usaid/south africa", "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert out == ""
    else:
        assert out.splitlines()[0] == ("no partnership open to review of mission USAID/South Africa "
                                       "(8 stored; closed ones are not reviewed)")
