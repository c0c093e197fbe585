"""Signing in over real HTTP: the whole approval with a session from an email link, and the refusals."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import httpx
import pytest
from sqlalchemy import select

from isp_lifecycle import services, signin, tokens
from isp_lifecycle.document import load
from isp_lifecycle.store.models import AuditEntry, PartnershipRow
from tests.store.conftest import FIXTURES, dump

from .test_message import email_message, link_in, outbox_messages

DIRECTOR = "kboateng@mission.example.org"
LEADER = "ama@ghs.example.org"


@pytest.fixture
def healthy(store):
    services.import_document(store, load(FIXTURES / "healthy-convene.yaml"), actor="importer@mission.example.org")
    return store


def browser(live) -> httpx.Client:
    return httpx.Client(base_url=live.url, follow_redirects=False, timeout=30)


def ask_link(client, env, email=DIRECTOR, next_path="/") -> str:
    """Ask for a link on the sign-in page and take it from the newest outbox message."""
    folder = env / "home" / "outbox"
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    answer = client.post("/auth/sign-in", data={"email": email, "next": next_path})
    assert answer.status_code == 200, answer.text
    [new] = set(folder.glob("*.eml")) - before
    return link_in(email_message(new))


def open_and_sign_in(client, link) -> httpx.Response:
    page = client.get(link)
    assert page.status_code == 200 and re.search(r"<button[^>]*>Sign in</button>", page.text)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return client.post("/auth/link", data={"token": token})


def requested(store, live) -> int:
    """The leader asks to move tamale-health on, with an operator's token (issue 14's API)."""
    made = tokens.create(store, LEADER, name="leader")
    answer = httpx.post(f"{live.url}/api/v1/partnerships/tamale-health/advance", json={},
                        headers={"Authorization": f"Bearer {made.secret}"}, timeout=60)
    assert answer.status_code == 202, answer.text
    return answer.json()["request"]["id"]


def stage(store) -> str:
    with store.sessions() as s:
        return s.get(PartnershipRow, "tamale-health").stage


def set_cookie_headers(response) -> dict[str, str]:
    return {SimpleCookie(h).popitem()[0]: h for h in response.headers.get_list("set-cookie")}


def test_the_whole_approval_over_http_with_a_session_from_an_email_link(healthy, env, make_web):
    live = make_web(channels=("outbox",))
    request_id = requested(healthy, live)
    with browser(live) as director:
        first = director.get("/")
        assert first.status_code == 303 and first.headers["location"].startswith("/auth/sign-in")
        assert 'name="email"' in director.get(first.headers["location"]).text
        link = ask_link(director, env, next_path=f"/api/v1/approvals/{request_id}")
        before = dump(healthy)
        page = director.get(link)
        assert page.status_code == 200 and ">Sign in</button>" in page.text
        assert dump(healthy) == before, "opening the link (GET) changed the store"
        token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
        signed = director.post("/auth/link", data={"token": token})
        assert signed.status_code == 303 and signed.headers["location"] == f"/api/v1/approvals/{request_id}"
        cookies = set_cookie_headers(signed)
        assert re.search(r"(?i)httponly", cookies["isp_session"]) and re.search(r"(?i)samesite=lax", cookies["isp_session"])
        assert "secure" not in cookies["isp_session"].lower()  # ISP_WEB_URL is http here
        csrf = director.cookies["isp_csrf"]
        assert director.get("/api/v1/me").json()["email"].casefold() == DIRECTOR

        unchanged = dump(healthy)
        refused = director.post(f"/api/v1/approvals/{request_id}/decision", json={"decision": "approve"})
        assert refused.status_code == 403 and dump(healthy) == unchanged and stage(healthy) == "convene"

        decided = director.post(f"/api/v1/approvals/{request_id}/decision", json={"decision": "approve", "note": "Go."},
                                headers={"X-CSRF-Token": csrf})
        assert decided.status_code in (200, 202), decided.text
    assert stage(healthy) == "commit"
    with healthy.sessions() as s:
        recorded = {e.action: e.detail.get("identity") for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))}
    session_id = recorded["approve"]["credential"]
    assert recorded["approve"] == recorded["move"] == {"email": DIRECTOR, "method": "email-link",
                                                       "credential": session_id, "client": "127.0.0.1"}
    assert session_id != director.cookies.get("isp_session") and len(session_id) == 16


def test_a_reused_link_signs_nobody_in(healthy, env, make_web):
    live = make_web()
    with browser(live) as one, browser(live) as two:
        link = ask_link(one, env)
        assert open_and_sign_in(one, link).status_code == 303
        token = link.split("token=", 1)[1]
        again = two.post("/auth/link", data={"token": token})
        assert again.status_code == 410 and "isp_session" not in again.headers.get("set-cookie", "")
        assert two.get(link).status_code == 410


def test_an_expired_link_signs_nobody_in(healthy, env, make_web, clock):
    live = make_web()
    with browser(live) as client:
        link = ask_link(client, env)
        clock.advance(minutes=15)
        assert client.get(link).status_code == 410
        assert client.post("/auth/link", data={"token": link.split("token=", 1)[1]}).status_code == 410
        assert client.get("/api/v1/me").status_code == 401


def test_the_page_answers_the_same_for_an_unknown_email(healthy, env, make_web):
    live = make_web()
    with browser(live) as client:
        known = client.post("/auth/sign-in", data={"email": DIRECTOR, "next": "/"})
        unknown = client.post("/auth/sign-in", data={"email": "nobody@elsewhere.example.net", "next": "/"})
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text)
    assert len(outbox_messages(env / "home" / "outbox")) == 1


def test_the_sixth_link_request_for_one_email_within_15_minutes_is_429(healthy, env, make_web, clock):
    live = make_web()
    with browser(live) as client:
        for _ in range(5):
            assert client.post("/auth/sign-in", data={"email": DIRECTOR}).status_code == 200
            clock.advance(minutes=2)
        sixth = client.post("/auth/sign-in", data={"email": DIRECTOR.upper()})
        assert sixth.status_code == 429 and int(sixth.headers["retry-after"]) > 0
    assert len(outbox_messages(env / "home" / "outbox")) == 5
    signin.reset_limits(healthy)


def test_a_session_after_sign_out_is_refused(healthy, env, make_web):
    live = make_web()
    with browser(live) as client:
        open_and_sign_in(client, ask_link(client, env))
        old = client.cookies["isp_session"]
        assert client.post("/auth/sign-out", data={}).status_code == 403  # a form without its CSRF token
        assert client.get("/api/v1/me").status_code == 200
        out = client.post("/auth/sign-out", data={"csrf_token": client.cookies["isp_csrf"]})
        assert out.status_code == 303
    with browser(live) as replay:
        replay.cookies.set("isp_session", old)
        assert replay.get("/api/v1/me").status_code == 401
        page = replay.get("/account")
        assert page.status_code == 303 and page.headers["location"] == "/auth/sign-in?next=/account"


def test_an_idle_session_ends_after_12_hours(healthy, env, make_web, clock):
    live = make_web()
    with browser(live) as client:
        open_and_sign_in(client, ask_link(client, env))
        clock.advance(hours=11)
        assert client.get("/api/v1/me").status_code == 200
        clock.advance(hours=12)
        assert client.get("/api/v1/me").status_code == 401


def test_the_account_page_lists_and_revokes_sessions_and_makes_tokens_of_method_token(healthy, env, make_web):
    live = make_web()
    with browser(live) as laptop, browser(live) as phone:
        open_and_sign_in(laptop, ask_link(laptop, env))
        open_and_sign_in(phone, ask_link(phone, env))
        csrf = laptop.cookies["isp_csrf"]
        made = laptop.post("/account/tokens", data={"csrf_token": csrf, "name": "scripts", "days": "30"})
        assert made.status_code == 201
        secret = re.search(r'<output id="new-token">([^<]+)</output>', made.text).group(1)
        assert httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        [listed] = tokens.list_tokens(healthy, DIRECTOR)
        assert listed["method"] == "token" and listed["name"] == "scripts"
        page = laptop.get("/account").text
        ids = re.findall(r'/account/sessions/([0-9a-f]+)/revoke', page)
        assert len(ids) == 2
        for session_id in ids:
            if "(this one)" not in page.split(session_id, 1)[1].split("</tr>", 1)[0]:
                laptop.post(f"/account/sessions/{session_id}/revoke", data={"csrf_token": csrf})
        assert phone.get("/api/v1/me").status_code == 401
        assert laptop.post(f"/account/tokens/{listed['id']}/revoke", data={"csrf_token": csrf}).status_code == 303
        assert httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_an_api_post_with_a_session_and_without_the_csrf_header_is_403(healthy, env, make_web):
    live = make_web()
    with browser(live) as client:
        open_and_sign_in(client, ask_link(client, env))
        body = (FIXTURES / "healthy-convene.yaml").read_bytes()
        headers = {"Content-Type": "application/yaml"}
        assert client.post("/api/v1/check", content=body, headers=headers).status_code == 403
        headers["X-CSRF-Token"] = "not-the-token"
        assert client.post("/api/v1/check", content=body, headers=headers).status_code == 403
        headers["X-CSRF-Token"] = client.cookies["isp_csrf"]
        assert client.post("/api/v1/check", content=body, headers=headers).status_code == 200


def test_the_session_cookie_is_secure_when_the_service_is_reached_over_https(healthy, env, make_web):
    live = make_web(web_url_value="https://isp.mission.example.org")
    with browser(live) as client:
        link = ask_link(client, env)
        assert link.startswith("https://isp.mission.example.org/auth/link?token=")
        signed = open_and_sign_in(client, live.url + "/auth/link?" + link.split("?", 1)[1])
        cookies = set_cookie_headers(signed)
        assert all(re.search(r"(?i);\s*secure", cookies[name]) for name in ("isp_session", "isp_csrf"))


def test_a_page_sends_someone_not_signed_in_to_sign_in_and_back_afterwards(healthy, env, make_web):
    live = make_web()
    with browser(live) as client:
        away = client.get("/account")
        assert away.status_code == 303 and away.headers["location"] == "/auth/sign-in?next=/account"
        form = client.get(away.headers["location"]).text
        assert 'name="next" value="/account"' in form
        back = open_and_sign_in(client, ask_link(client, env, next_path="/account"))
        assert back.headers["location"] == "/account"
        assert client.get("/account").status_code == 200
        assert open_and_sign_in(client, ask_link(client, env, next_path="//evil.example/")).headers["location"] == "/"
