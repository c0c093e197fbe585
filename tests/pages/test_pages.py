"""The inbox and the decision page over HTTP (what a browser gets, without the browser)."""

from __future__ import annotations

import re

from sqlalchemy import select

from isp_lifecycle.store.models import AuditEntry, PartnershipRow

from .conftest import signed_in
from .site import CONTACT, DELEGATE, DIRECTOR, HOSTILE_NAME, LEADER, OTHER_DIRECTOR, OUTSIDER


def post(client, request_id, fields: dict, *, csrf: bool = True):
    """The decision form as a browser sends it: with the session's CSRF token."""
    return client.post(f"/approvals/{request_id}", data={**fields, **({"csrf_token": client.csrf} if csrf else {})})


def test_a_decision_without_the_csrf_token_is_refused_and_changes_nothing(client):
    request_id = client.ids["tamale-health"]
    assert post(signed_in(client, DIRECTOR), request_id, {"decision": "approve"}, csrf=False).status_code == 403
    with client.store.sessions() as session:
        assert session.get(PartnershipRow, "tamale-health").stage == "convene"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_page_asked_for_without_signing_in_redirects_to_sign_in_and_back(client):
    answer = client.get("/approvals/1?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/sign-in?next=/approvals/1%3Fx%3D1"


def test_the_director_is_waiting_on_every_request_of_the_mission_oldest_first(client):
    page = signed_in(client, DIRECTOR).get("/inbox").text
    names = re.findall(r'class="title" href="/approvals/(\d+)"', page)
    ids = client.ids
    assert names == [str(ids["tamale-old"]), str(ids["tamale-health"]), str(ids["tamale-hostile"])]
    assert page.count("reminder sent") == 1 and page.count("Convene → Commit") == 3


def test_a_leader_sees_her_requests_in_flight_and_nothing_to_decide(client):
    page = signed_in(client, LEADER).get("/inbox").text
    assert "Nothing is waiting on your decision." in page
    assert "Tamale Maternal Health Partnership" in page


def test_the_decision_page_shows_the_move_the_requester_the_findings_and_the_buttons(client):
    page = signed_in(client, DELEGATE).get(f"/approvals/{client.ids['tamale-health']}").text
    text = _text(page)
    assert "Convene → Commit" in text and f"Asked by {LEADER}" in text
    assert "The gate it rests on" in text and "The Convene gate passed" in text
    assert "What changed since the previous gate" in text
    assert re.search(r'<button type="submit" name="decision" value="approve"[^>]*>Approve</button>', page)
    assert re.search(r'<button type="submit" name="decision" value="reject"[^>]*>Reject</button>', page)
    assert f'name="csrf_token" value="{client.csrf}"' in page and 'name="note"' in page


def test_a_stale_request_says_why_and_offers_the_gate_again_to_whoever_may_request(client):
    request_id = client.ids["tamale-stale"]
    page = _text(signed_in(client, DIRECTOR).get(f"/approvals/{request_id}").text)
    assert "can no longer be decided" in page and "version 1 → 2" in page and "run the gate again" in page
    assert "Approve</button>" not in page
    assert "run the gate again" not in _text(signed_in(client, CONTACT).get(f"/approvals/{request_id}").text)
    assert post(client, request_id, {"decision": "approve"}).status_code == 403
    assert post(signed_in(client, DIRECTOR), request_id, {"decision": "approve"}).status_code == 409


def test_the_diff_names_what_changed_since_the_previous_gate(client):
    from isp_lifecycle import approvals

    again = approvals.open_request(client.store, "tamale-stale", requested_by=LEADER)
    page = _text(signed_in(client, DIRECTOR).get(f"/approvals/{again.request_id}").text)
    assert "Version 2 compared with version 1" in page
    assert "local_context changed from" in page and "to Changed after the request." in page


def test_someone_who_may_see_but_not_decide_sees_no_buttons_and_a_forged_post_gets_403(client):
    request_id = client.ids["tamale-health"]
    signed_in(client, CONTACT)
    page = client.get(f"/approvals/{request_id}").text
    assert "Approve</button>" not in page and "Only the mission director or a delegate decides" in page
    with client.store.sessions() as session:
        before = session.scalar(select(PartnershipRow.stage).where(PartnershipRow.id == "tamale-health"))
        audits = len(session.scalars(select(AuditEntry.seq)).all())
    answer = post(client, request_id, {"decision": "approve"})
    assert answer.status_code == 403
    with client.store.sessions() as session:
        assert session.scalar(select(PartnershipRow.stage).where(PartnershipRow.id == "tamale-health")) == before
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert len(entries) == audits + 1 and entries[-1].action == "approve.refused"


def test_the_requester_herself_gets_403(client):
    answer = post(signed_in(client, LEADER), client.ids['tamale-health'], {"decision": "approve"})
    assert answer.status_code == 403


def test_an_outsider_and_a_director_of_another_mission_get_404(client):
    for who in (OUTSIDER, OTHER_DIRECTOR):
        signed_in(client, who)
        assert client.get(f"/approvals/{client.ids['tamale-health']}").status_code == 404
        assert post(client, client.ids['tamale-health'], {"decision": "approve"}).status_code == 404


def test_approving_moves_the_stage_and_the_page_says_it_is_applied(client):
    request_id = client.ids["tamale-health"]
    answer = post(signed_in(client, DIRECTOR), request_id, {"decision": "approve", "note": "Go."})
    assert answer.status_code == 303
    page = _text(client.get(answer.headers["location"]).text)
    assert "The partnership has moved to Commit" in page and "Go." in page
    with client.store.sessions() as session:
        assert session.get(PartnershipRow, "tamale-health").stage == "commit"
    assert post(client, request_id, {"decision": "reject"}).status_code == 409


def test_rejecting_keeps_the_stage(client):
    request_id = client.ids["tamale-old"]
    answer = post(signed_in(client, DIRECTOR), request_id, {"decision": "reject"})
    assert "stays in Convene" in _text(client.get(answer.headers["location"]).text)
    with client.store.sessions() as session:
        assert session.get(PartnershipRow, "tamale-old").stage == "convene"


def test_a_decision_without_a_choice_or_with_a_long_note_changes_nothing(client):
    request_id = client.ids["tamale-health"]
    signed_in(client, DIRECTOR)
    assert post(client, request_id, {"note": "x"}).status_code == 400
    assert post(client, request_id, {"decision": "approve", "note": "x" * 2001}).status_code == 422
    with client.store.sessions() as session:
        assert session.get(PartnershipRow, "tamale-health").stage == "convene"


def test_a_hostile_name_is_escaped(client):
    page = signed_in(client, DIRECTOR).get(f"/approvals/{client.ids['tamale-hostile']}").text
    assert "<script>document.title" not in page and "&lt;script&gt;" in page
    assert "<script>document.title" not in client.get("/inbox").text


def test_every_page_carries_the_security_headers(client):
    signed_in(client, DIRECTOR)
    for path in ("/inbox", f"/approvals/{client.ids['tamale-health']}", "/approvals/999999", "/static/pages.css"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


def test_only_the_shipped_static_files_are_served(client):
    assert client.get("/static/pages.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/..%2Fpages.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_a_director_of_another_partnership_of_the_mission_sees_the_request_but_cannot_decide_it(client):
    from isp_lifecycle import services

    from .site import healthy

    other = "boss@mission.example.org"
    services.import_document(client.store, healthy(id="tamale-other", name="Other", delegates=[],
                                                   mission_director={"name": "Boss", "email": other}))
    page = signed_in(client, other).get(f"/approvals/{client.ids['tamale-health']}")
    assert page.status_code == 200 and "Approve</button>" not in page.text
    assert post(client, client.ids["tamale-health"], {"decision": "approve"}).status_code == 403


def test_a_question_on_the_request_is_threaded_audited_and_sent_to_both_sides_without_deciding(client):
    from isp_lifecycle.store.models import Notification

    request_id = client.ids["tamale-health"]
    question = "Has the <b>district</b> team agreed?"
    answer = signed_in(client, DIRECTOR).post(f"/approvals/{request_id}/comments",
                                              data={"comment": question, "csrf_token": client.csrf})
    assert answer.status_code == 303
    page = client.get(f"/approvals/{request_id}").text
    assert "Has the &lt;b&gt;district&lt;/b&gt; team agreed?" in page and "Approve</button>" in page
    with client.store.sessions() as session:
        sent = {n.recipient for n in session.scalars(select(Notification).where(Notification.event == "approval-comment"))}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "comment")).one()
    assert {LEADER, DIRECTOR, DELEGATE} <= sent and entry.detail["text"] == question
    reply = signed_in(client, LEADER).post(f"/approvals/{request_id}/comments",
                                           data={"comment": "Yes, on Monday.", "csrf_token": client.csrf})
    assert reply.status_code == 303 and "Yes, on Monday." in client.get(f"/approvals/{request_id}").text


def test_a_partner_contact_reads_the_thread_but_may_not_write_and_a_comment_needs_the_csrf_token(client):
    request_id = client.ids["tamale-health"]
    signed_in(client, CONTACT)
    assert 'name="comment"' not in client.get(f"/approvals/{request_id}").text
    assert client.post(f"/approvals/{request_id}/comments",
                       data={"comment": "Me too", "csrf_token": client.csrf}).status_code == 403
    signed_in(client, DIRECTOR)
    assert client.post(f"/approvals/{request_id}/comments", data={"comment": "no token"}).status_code == 403
    assert client.post(f"/approvals/{request_id}/comments",
                       data={"comment": "  ", "csrf_token": client.csrf}).status_code == 400
