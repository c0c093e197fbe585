"""The lessons page over HTTP: who reads which lessons, the filters as query parameters, and
hostile text shown as text."""

from __future__ import annotations

import re
from datetime import date

import pytest

from isp_lifecycle import services

from ..pages.conftest import client, env, pages_backend, seeded, signed_in  # noqa: F401  (fixtures)
from ..pages.site import ADMIN, CONTACT, DIRECTOR, LEADER, OTHER_DIRECTOR, OUTSIDER, healthy
from .conftest import given

REFRESHER = "Volunteers need refresher training"  # the fixture's review lesson, in every seeded partnership
HOSTILE = '<script>document.title="owned"</script> & <b>bold</b>'


@pytest.fixture
def told(client, assessments):
    """The pages' store, one partnership with a hostile lesson, one the contact is not in, and
    lessons from assessments: an internal one of a partnership the contact is in, a shareable one
    of Kenya."""
    data = healthy(id="tamale-lessons", name="Tamale Lessons Partnership").to_data()
    data["reviews"] = [{"date": "2026-10-01", "lessons": [HOSTILE]}]
    services.import_document(client.store, healthy(**data))
    data = healthy(id="tamale-without-yaw", name="Tamale Without Yaw").to_data()
    data["partners"][0]["contacts"] = [c for c in data["partners"][0]["contacts"] if c["email"] != CONTACT]
    data["reviews"] = [{"date": "2026-10-04", "lessons": ["Not for Yaw."]}]
    services.import_document(client.store, healthy(**data))
    assessments([given("tamale-health", "USAID/Ghana", date(2026, 10, 2), "Internal: the district budget.",
                       shareable=False),
                 given("kisumu-water", "USAID/Kenya", date(2026, 10, 3), "Rotate the chair.",
                       principle="shared-vision")])
    return client


def _cards(html: str) -> list[tuple[str, str]]:
    """(partnership id, lesson text) of each card, in page order."""
    return re.findall(r'href="/partnerships/([^"]+)">.*?<p class="comment">(.*?)</p>', html, re.S)


def test_a_director_reads_every_lesson_of_her_mission_internal_ones_marked_newest_first(told):
    page = signed_in(told, DIRECTOR).get("/lessons")
    assert page.status_code == 200
    cards = _cards(page.text)
    assert cards[:2] == [("tamale-without-yaw", "Not for Yaw."), ("tamale-health", "Internal: the district budget.")]
    assert {pid for pid, _ in cards} == {"tamale-health", "tamale-old", "tamale-stale", "tamale-hostile",
                                        "tamale-lessons", "tamale-without-yaw"}  # not Kenya's
    assert 'tag warn">internal</span>' in page.text and "Rotate the chair." not in page.text


def test_a_partner_contact_reads_only_the_shareable_lessons_of_her_partnerships(told):
    page = signed_in(told, CONTACT).get("/lessons")
    assert page.status_code == 200
    assert "Internal: the district budget." not in page.text and "internal</span>" not in page.text
    assert REFRESHER in page.text and "You see the lessons your partnerships share." in page.text
    assert "Not for Yaw." not in page.text
    assert "Rotate the chair." in page.text  # she is a contact in Kenya's partnership too


def test_an_admin_reads_every_mission_and_filters_by_mission_principle_and_partnership(told):
    signed_in(told, ADMIN)
    everything = _cards(told.get("/lessons").text)
    assert ("kisumu-water", "Rotate the chair.") in everything and len(everything) == 9
    assert {p for p, _ in _cards(told.get("/lessons", params={"mission": "usaid/kenya"}).text)} == {"kisumu-water"}
    assert _cards(told.get("/lessons", params={"principle": "shared-vision"}).text) == [
        ("kisumu-water", "Rotate the chair.")]
    one = told.get("/lessons", params={"partnership": "tamale-old"}).text
    assert _cards(one) == [("tamale-old", REFRESHER)] and 'value="tamale-old"' in one


def test_an_unknown_principle_or_a_mission_one_does_not_read_is_400_with_the_form_and_theirs_only(told):
    signed_in(told, DIRECTOR)
    bad = told.get("/lessons", params={"principle": "sharing"})
    assert bad.status_code == 400 and "is not a principle of the handbook" in bad.text and "<form" in bad.text
    kenya = told.get("/lessons", params={"mission": "USAID/Kenya"})
    assert kenya.status_code == 400
    assert "you read no lessons of a mission &#39;USAID/Kenya&#39;; yours: USAID/Ghana" in kenya.text


def test_a_partnership_one_may_not_see_is_not_found_and_outsiders_have_no_register(told):
    assert signed_in(told, OTHER_DIRECTOR).get("/lessons", params={"partnership": "tamale-health"}).status_code == 404
    assert told.get("/lessons", params={"partnership": "x" * 5000}).status_code == 404
    assert signed_in(told, OUTSIDER).get("/lessons").status_code == 403


def test_the_page_asks_a_stranger_to_sign_in_first(client):
    answer = client.get("/lessons?mission=USAID/Ghana")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/auth/sign-in?next=/lessons")


def test_hostile_text_is_shown_as_text(told):
    page = signed_in(told, LEADER).get("/lessons").text
    assert "<script>document.title" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;document.title=&#34;owned&#34;&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_the_page_links_from_the_header_and_pages_past_fifty(told):
    data = healthy(id="tamale-many", name="Tamale Many").to_data()
    data["reviews"] = [{"date": f"2025-{m:02d}-{d:02d}", "lessons": [f"Lesson {m}-{d}"]} for m in (1, 2) for d in
                       range(1, 29)]
    services.import_document(told.store, healthy(**data))
    signed_in(told, ADMIN)
    first = told.get("/lessons", params={"partnership": "tamale-many"}).text
    assert '<a href="/lessons">Lessons</a>' in first and "Page 1 of 2" in first
    assert len(_cards(first)) == 50 and _cards(first)[0] == ("tamale-many", "Lesson 2-28")
    following = re.search(r'href="(/lessons\?[^"]+)">Next', first).group(1).replace("&amp;", "&")
    second = told.get(following).text
    assert [t for _, t in _cards(second)] == ["Lesson 1-6", "Lesson 1-5", "Lesson 1-4", "Lesson 1-3", "Lesson 1-2",
                                             "Lesson 1-1"]


def test_the_page_offers_the_brief_of_what_one_reads_without_internal_lessons_or_people(told):
    page = signed_in(told, DIRECTOR).get("/lessons", params={"mission": "usaid/ghana"}).text
    assert 'href="/lessons/brief?mission=usaid%2Fghana" download>Download the 6 shareable lessons' in page
    answer = told.get("/lessons/brief", params={"mission": "usaid/ghana"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith('attachment; filename="lessons-')
    brief = answer.text.split("<body>", 1)[1]
    assert "Internal: the district budget." not in brief and "Not for [name withheld]." in brief
    assert "mission USAID/Ghana" in brief  # as stored
    assert "@" not in brief and "Mensah" not in brief and "Rotate the chair." not in brief
    assert "&lt;script&gt;document.title" in brief


def test_a_contacts_brief_holds_only_what_she_reads_and_a_bad_filter_gives_none(told):
    signed_in(told, CONTACT)
    brief = told.get("/lessons/brief").text
    assert "Rotate the chair." in brief and "Not for" not in brief
    assert told.get("/lessons/brief", params={"principle": "sharing"}).status_code == 400
    assert signed_in(told, OUTSIDER).get("/lessons/brief").status_code == 403
