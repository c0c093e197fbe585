"""The form and what people see, over HTTP with the service's own app (real sessions, real CSRF)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from isp_lifecycle.settings import Settings
from isp_lifecycle.store.assessment_models import Assessment

from ..pages.conftest import signed_in as as_  # a session of someone, its CSRF token on the client
from ..pages.site import app_for
from ..pages.test_pages import _text
from .conftest import WEB, two_partnerships

HAWA, YAW = "hawa.issah@nmwa.example.org", "yaw.darko@ghs.example.org"
DANIEL, OTHER = "daniel.osei@tamalemobile.example.com", "copy.hawa.issah@nmwa.example.org"
LEADER, DIRECTOR = "ama.mensah@ghs.example.org", "kboateng@mission.example.org"


@pytest.fixture
def client(store, enabled, tmp_path):
    from isp_lifecycle import review

    two_partnerships(store)
    summary = review.run_review(store, datetime.utcnow().date())
    with TestClient(app_for(store, Settings(home=tmp_path, web_url_value=WEB)), follow_redirects=False) as c:
        c.store, c.review = store, summary.review_id
        c.form = f"/partnerships/gh-mnh-north/assessments/{summary.review_id}"
        yield c


def section(html: str) -> str:
    """The text of the partnership page's "What the partners say" section."""
    assert 'id="partners-view"' in html
    return _text(html.split('id="partners-view"', 1)[1].split("</section>", 1)[0])


def post(client, path, fields):
    return client.post(path, data={**fields, "csrf_token": client.csrf})


def test_the_link_alone_grants_nothing_it_asks_to_sign_in_and_comes_back(client):
    answer = client.get(client.form)
    assert answer.status_code == 303 and "/auth/sign-in?next=" in answer.headers["location"]
    assert client.form in answer.headers["location"]


def test_a_contact_rates_comments_and_the_partnership_page_shows_it_by_sector_under_the_organisation(client):
    page = as_(client, HAWA).get(client.form)
    assert page.status_code == 200
    text = _text(page.text)
    assert "Hawa Issah, for Northern Midwives Association" in text and "Named, active leaders carry the vision." in text
    assert post(client, client.form + "/answers", {"rating.flexibility": "red", "comment.flexibility": "Nobody asked us.",
                                                   "stays.volunteer-training": "no"}).status_code == 303
    assert "Your answers are saved" in client.get(client.form + "?said=saved").text
    as_(client, DANIEL)
    post(client, client.form + "/answers", {"rating.flexibility": "green", "comment.flexibility": "Works for us.",
                                            "named.flexibility": "1"})
    as_(client, YAW)
    post(client, client.form + "/answers", {"rating.flexibility": "red"})
    shown = section(as_(client, HAWA).get("/partnerships/gh-mnh-north").text)
    assert "Public sector: red" in shown and "Private sector: green" in shown and "Civil society: red" in shown
    assert "Nobody asked us. Northern Midwives Association (red)" in shown and "Hawa Issah" not in shown
    assert "Works for us. Daniel Osei, Tamale Mobile" in shown
    assert "would like to stop taking part" not in shown  # a contact does not see it; the leaders do
    led = section(as_(client, LEADER).get("/partnerships/gh-mnh-north").text)
    assert "Northern Midwives Association would like to stop taking part in volunteer-training." in led


def test_the_portfolio_shows_principles_by_partnership(client):
    as_(client, HAWA)
    post(client, client.form + "/answers", {"rating.local-ownership": "amber"})
    page = _text(as_(client, DIRECTOR).get("/portfolio").text)
    assert "What partners say, by principle" in page and "Local ownership amber" in page


def test_a_contact_of_another_partnership_gets_404_and_changes_nothing(client):
    as_(client, OTHER)
    assert client.get(client.form).status_code == 404
    assert post(client, client.form + "/answers", {"rating.flexibility": "red"}).status_code == 404
    assert client.get(f"/partnerships/gh-mnh-north/assessments/{client.review + 1}").status_code == 404
    assert client.get("/partnerships/gh-mnh-north/assessments/not-a-number").status_code == 404
    assert "What the partners say" not in as_(client, LEADER).get("/partnerships/gh-mnh-north").text


def test_a_form_without_the_csrf_token_is_refused(client):
    as_(client, HAWA)
    assert client.post(client.form + "/answers", data={"rating.flexibility": "red"}).status_code == 403


def test_a_bad_answer_says_why_and_keeps_what_was_written(client):
    as_(client, HAWA)
    answer = post(client, client.form + "/answers", {"rating.flexibility": "red", "comment.flexibility": "x" * 2001})
    assert answer.status_code == 400 and "at most 2000 characters" in answer.text and "x" * 2001 in answer.text
    lesson = post(client, client.form + "/lessons", {"text": "Ask the midwives first."})
    assert lesson.status_code == 400 and "Ask the midwives first." in lesson.text


def test_after_closing_the_form_is_read_only_and_every_change_is_refused(client):
    as_(client, HAWA)
    post(client, client.form + "/answers", {"rating.flexibility": "green"})
    with client.store.sessions.begin() as session:
        session.execute(update(Assessment).values(closes_at=datetime.utcnow() - timedelta(minutes=1)))
    page = client.get(client.form)
    assert "This assessment closed" in page.text and "Save my answers" not in page.text
    for path, fields in (("/answers", {"rating.flexibility": "red"}), ("/lessons", {"text": "x", "shareable": "yes"}),
                         ("/decline", {})):
        refused = post(client, client.form + path, fields)
        assert refused.status_code == 409 and "answers can no longer change" in refused.text


def test_lessons_are_added_and_withdrawn_and_declining_is_said(client):
    as_(client, HAWA)
    assert post(client, client.form + "/lessons", {"text": "Radio works better than posters.",
                                                   "principle": "share-information", "shareable": "yes"}).status_code == 303
    page = client.get(client.form).text
    assert "Radio works better than posters." in page and "may be shared" in page
    lesson = page.split("/lessons/")[1].split("/withdraw")[0]
    assert post(client, client.form + f"/lessons/{lesson}/withdraw", {}).status_code == 303
    assert "Radio works better" not in client.get(client.form).text
    assert post(client, client.form + "/decline", {}).status_code == 303
    assert "You declined this assessment" in client.get(client.form).text


def test_a_hostile_comment_is_shown_as_text(client):
    as_(client, HAWA)
    post(client, client.form + "/answers", {"rating.flexibility": "red",
                                            "comment.flexibility": '<script>alert("x")</script> & <b>bold</b>'})
    html = as_(client, LEADER).get("/partnerships/gh-mnh-north").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html
