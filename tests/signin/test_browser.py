"""The sign-in pages in real Chromium (no script of ours: forms and links only)."""

from __future__ import annotations

import pytest

from .test_message import email_message, link_in
from .test_oidc import CLIENT
from .test_web import DIRECTOR, healthy  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium():
    from .webdriver import Browser

    browser = Browser()
    yield browser
    browser.close()


def test_a_director_signs_in_by_email_link_and_by_single_sign_on_in_chromium(healthy, env, make_web,  # noqa: F811
                                                                            oidc_provider, chromium):
    live = make_web(oidc_issuer=oidc_provider, **CLIENT)
    chromium.go(live.url + "/")
    assert chromium.arrive(live.url + "/auth/sign-in") == live.url + "/auth/sign-in"
    chromium.type("input[name=email]", DIRECTOR)
    chromium.click("form[action='/auth/sign-in'] button")
    chromium.arrive(live.url + "/auth/sign-in")
    chromium.shows("Check your email")
    [message] = (env / "home" / "outbox").glob("*.eml")
    chromium.go(link_in(email_message(message)))
    assert "isp_session" not in chromium.cookies()  # opening the link signed nobody in
    chromium.click("form[action='/auth/link'] button")
    assert chromium.arrive(live.url + "/account") == live.url + "/account" and DIRECTOR in chromium.html
    cookie = chromium.cookies()["isp_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    chromium.click("form[action='/auth/sign-out'] button")
    chromium.arrive(live.url + "/auth/sign-in")

    chromium.click("a[href^='/auth/oidc/start']")
    chromium.arrive(oidc_provider + "/interaction/")
    chromium.type("input[name=login]", "director")
    chromium.type("input[name=password]", "any")
    chromium.click("button[type=submit]")
    chromium.shows('value="consent"')
    chromium.click("button[type=submit]")  # the provider's consent page
    assert chromium.arrive(live.url + "/account") == live.url + "/account"
    assert DIRECTOR in chromium.html and "oidc" in chromium.html
