"""The portfolio page over HTTP: the latest review, needs attention first, by mission, its trends."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from isp_lifecycle import review, services

from .conftest import signed_in
from .site import ADMIN, CONTACT, DIRECTOR, LEADER, OTHER_DIRECTOR, blocked
from .test_pages import _text


def _reviewed(client, as_of: date | None = None):
    review.run_review(client.store, as_of or datetime.utcnow().date())
    return client


def _listed(html: str) -> list[str]:
    return re.findall(r'class="title" href="/partnerships/([^"]+)"', html)


def _card(html: str, pid: str) -> str:
    """The text of one partnership's card."""
    start = html.index(f'href="/partnerships/{pid}"')
    return _text(html[start:html.index("\n  </li>", start)])


def _row(html: str, heading: str) -> list[int]:
    """The numbers of one row of the "Across reviews" table, newest review first."""
    row = re.search(rf'<th scope="row">{heading}</th>(.*?)</tr>', html).group(1)
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", row)]


def test_a_director_sees_the_missions_partnerships_waiting_decisions_first(client):
    page = signed_in(_reviewed(client), DIRECTOR).get("/portfolio")
    assert page.status_code == 200
    listed = _listed(page.text)
    assert "kisumu-water" not in listed  # another mission
    assert set(listed[:3]) == {"tamale-health", "tamale-old", "tamale-hostile"}  # decisions waiting first
    assert "decision waiting" in _card(page.text, "tamale-old") and "decision waiting" not in _card(page.text, "tamale-stale")


def test_the_mission_filter_narrows_an_admins_portfolio(client):
    signed_in(_reviewed(client), ADMIN)
    assert "kisumu-water" in _listed(client.get("/portfolio").text)
    kenya = client.get("/portfolio", params={"mission": "usaid/kenya"}).text
    assert _listed(kenya) == ["kisumu-water"]
    assert _row(kenya, "Reviewed") == [1]  # the totals follow the filter too
    assert "Nothing to show" in client.get("/portfolio", params={"mission": "USAID/Nowhere"}).text


def test_leaders_and_partner_contacts_have_no_portfolio(client):
    for who in (LEADER, CONTACT):
        assert signed_in(_reviewed(client), who).get("/portfolio").status_code == 403


def test_a_director_of_another_mission_sees_only_hers(client):
    assert _listed(signed_in(_reviewed(client), OTHER_DIRECTOR).get("/portfolio").text) == ["kisumu-water"]


def test_before_any_review_the_page_says_so_and_a_bad_page_number_is_the_first_page(client):
    signed_in(client, DIRECTOR)
    assert "No portfolio review has been completed yet" in client.get("/portfolio").text
    _reviewed(client)
    assert client.get("/portfolio", params={"page": "-3"}).status_code == 200
    assert "Page 1 of 1" in _text(client.get("/portfolio", params={"page": "x"}).text)


def test_a_partnership_moved_after_the_review_is_flagged_never_given_a_negative_age(client):
    from .test_pages import post

    _reviewed(client)
    assert post(signed_in(client, DIRECTOR), client.ids["tamale-health"], {"decision": "approve"}).status_code == 303
    page = _text(client.get("/portfolio").text)
    assert "moved to Commit since the review" in page and "-" not in re.findall(r"for (-?\d+) day", page)[0]


def test_a_review_dated_before_a_partnership_entered_its_stage_says_so_in_words_not_in_days(client):
    _reviewed(client, date(2025, 10, 1))  # before the partnerships started (2025-11-03)
    page = _text(signed_in(client, DIRECTOR).get("/portfolio").text)
    assert page.count("Convene, moved after this review's date") == 4
    assert not re.search(r"-\d+ day|for today|for 0 day", page)


def test_each_partnership_shows_its_standing_in_the_last_reviews_in_words_newest_first(client):
    today = datetime.utcnow().date()
    _reviewed(client, today - timedelta(days=7))
    services.import_document(client.store, blocked("tamale-old", "Tamale Water Partnership"), actor=LEADER)
    html = signed_in(_reviewed(client, today), DIRECTOR).get("/portfolio").text
    marks = re.search(r'href="/partnerships/tamale-old".*?<ol class="marks"[^>]*>(.*?)</ol>', html, re.S).group(1)
    words = [_text(li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", marks)]
    short = [f"{d.day} {d:%b}" for d in (today, today - timedelta(days=7))]
    assert words == [f"{short[0]} 1 blocking, 1 alert", f"{short[1]} ready, 1 alert"]  # in Convene > 180 days
    assert re.findall(r'<li class="(\w+)">', marks) == ["bad", "warn"]  # the colour repeats the words


def test_the_totals_per_review_count_ready_blocked_with_alerts_and_by_stage_newest_first(client):
    today = datetime.utcnow().date()
    _reviewed(client, today - timedelta(days=7))
    services.import_document(client.store, blocked("tamale-old", "Tamale Water Partnership"), actor=LEADER)
    html = signed_in(_reviewed(client, today), DIRECTOR).get("/portfolio").text
    assert _row(html, "Reviewed") == [4, 4]
    assert _row(html, "Gate blocked") == [1, 0] and _row(html, "Ready to move on") == [3, 4]
    assert _row(html, "In Convene") == [4, 4] and _row(html, "In Commit") == [0, 0]
    assert "1 more with a blocked gate" in _text(html)
    assert re.search(r"Convene key stakeholders from each sector <span class=\"slug\">convene-stakeholders</span>: "
                     r"1 partnership", html)


def test_a_single_review_shows_its_totals_without_a_row_of_marks(client):
    html = signed_in(_reviewed(client), DIRECTOR).get("/portfolio").text
    assert _row(html, "Reviewed") == [4] and "the first on record" in html
    assert 'class="marks"' not in html and "Since the previous review" not in html


def test_closed_partnerships_which_no_review_reads_are_named_so_the_portfolio_is_whole(client):
    from .site import healthy

    services.import_document(client.store, healthy(id="tamale-done", name="Tamale Done Partnership", stage="closed"),
                             actor=LEADER)
    html = signed_in(_reviewed(client), DIRECTOR).get("/portfolio").text
    assert "1 closed partnership is not reviewed: Tamale Done Partnership tamale-done" in _text(html)
    assert "tamale-done" not in _listed(html) and "tamale-old" in _listed(html)
