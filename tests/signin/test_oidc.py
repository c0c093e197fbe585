"""Single sign-on against a real OpenID Provider (npm oidc-provider on 127.0.0.1, tests/oidc)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from isp_lifecycle import sessions as session_service
from tests.store.conftest import dump

from .test_web import DIRECTOR, browser, healthy, requested, stage  # noqa: F401 (healthy is a fixture)

CLIENT = {"oidc_client_id": "isp-lifecycle-test", "oidc_client_secret": "isp-lifecycle-test-secret-not-used-anywhere-else"}


def form_of(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', html).group(1)
    fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return action, fields


def single_sign_on(client: httpx.Client, live, account: str, next_path: str = "/account") -> httpx.Response:
    """Press the sign-on button, sign in at the provider as ``account`` (its development login
    form), consent, and return the service's answer to the callback."""
    answer = client.get("/auth/oidc/start", params={"next": next_path})
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["openid email"]
    assert query["redirect_uri"] == [f"{live.url}/auth/oidc/callback"] and "code_verifier" not in query
    url = answer.headers["location"]
    for _ in range(12):
        if url.startswith(f"{live.url}/"):
            return client.get(url)
        answer = client.get(url)
        if answer.status_code in (302, 303):
            url = urljoin(url, answer.headers["location"])
            continue
        assert answer.status_code == 200, answer.text
        action, fields = form_of(answer.text)
        if 'name="login"' in answer.text:
            fields.update(login=account, password="any")
        answer = client.post(urljoin(url, action), data=fields)
        assert answer.status_code in (302, 303), answer.text
        url = urljoin(url, answer.headers["location"])
    raise AssertionError("the provider never sent the browser back")


@pytest.fixture
def sso_web(make_web, oidc_provider):
    return make_web(oidc_issuer=oidc_provider, require_signed_in=True, **CLIENT)


@pytest.mark.slow
def test_the_whole_approval_with_single_sign_on_even_when_signing_in_is_required(healthy, sso_web):  # noqa: F811
    request_id = requested(healthy, sso_web)
    with browser(sso_web) as director:
        page = director.get("/auth/sign-in", params={"next": "/account"}).text
        assert re.search(r'<a href="/auth/oidc/start\?next=/account">Sign in with single sign-on</a>', page)
        back = single_sign_on(director, sso_web, "director", next_path=f"/api/v1/approvals/{request_id}")
        assert back.status_code == 303 and back.headers["location"] == f"/api/v1/approvals/{request_id}", back.text
        me = director.get("/api/v1/me").json()
        assert me["email"] == DIRECTOR  # as the document writes it, not as the provider does
        decided = director.post(f"/api/v1/approvals/{request_id}/decision", json={"decision": "approve"},
                                headers={"X-CSRF-Token": director.cookies["isp_csrf"]})
        assert decided.status_code in (200, 202), decided.text
        [listed] = session_service.list_sessions(healthy, DIRECTOR)
    assert stage(healthy) == "commit" and listed["method"] == "oidc"


@pytest.mark.slow
def test_an_unverified_email_from_the_provider_signs_nobody_in(healthy, sso_web):  # noqa: F811
    with browser(sso_web) as client:
        before = dump(healthy)
        back = single_sign_on(client, sso_web, "unverified")
        assert back.status_code == 403 and "not verified" in back.text
        assert "isp_session" not in client.cookies and client.get("/api/v1/me").status_code == 401
    assert dump(healthy) == before


@pytest.mark.slow
def test_someone_no_partnership_names_is_not_signed_in_by_the_provider(healthy, sso_web):  # noqa: F811
    with browser(sso_web) as client:
        back = single_sign_on(client, sso_web, "outsider")
        assert back.status_code == 403 and "isp_session" not in client.cookies


@pytest.mark.slow
def test_a_callback_this_browser_did_not_start_is_refused(healthy, sso_web):  # noqa: F811
    with browser(sso_web) as client:
        back = client.get("/auth/oidc/callback", params={"code": "forged", "state": "forged"})
        assert back.status_code == 400 and "isp_session" not in client.cookies
