"""The portfolio page over HTTP: the latest review, needs attention first, by mission."""

from __future__ import annotations

import re
from datetime import datetime

from isp_lifecycle import review

from .conftest import signed_in
from .site import ADMIN, CONTACT, DIRECTOR, LEADER, OTHER_DIRECTOR
from .test_pages import _text


def _reviewed(client):
    review.run_review(client.store, datetime.utcnow().date())
    return client


def _listed(html: str) -> list[str]:
    return re.findall(r'class="title" href="/partnerships/([^"]+)"', html)


def test_a_director_sees_the_missions_partnerships_waiting_decisions_first(client):
    page = signed_in(_reviewed(client), DIRECTOR).get("/portfolio")
    assert page.status_code == 200
    listed = _listed(page.text)
    assert "kisumu-water" not in listed  # another mission
    assert set(listed[:3]) == {"tamale-health", "tamale-old", "tamale-hostile"}  # decisions waiting first
    assert "decision waiting" in page.text and "In Convene" not in page.text


def test_the_mission_filter_narrows_an_admins_portfolio(client):
    signed_in(_reviewed(client), ADMIN)
    assert "kisumu-water" in _listed(client.get("/portfolio").text)
    kenya = client.get("/portfolio", params={"mission": "usaid/kenya"}).text
    assert _listed(kenya) == ["kisumu-water"]
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
