"""Issue "the director's inbox and decision page", in a real browser (Chromium via Selenium).

The director's whole path starts from the approval email the outbox holds: its link, sign in,
the decision page with its findings and diff, Approve, the stage moved. Once with a mouse,
once with JavaScript disabled, once with only the keyboard.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

import pytest
from selenium.webdriver.common.keys import Keys

from isp_lifecycle.settings import Settings
from isp_lifecycle.store.models import PartnershipRow

from .sites import StaticSite
from isp_lifecycle import approvals, services

from ..pages.site import (
    DIRECTOR,
    HOSTILE_NAME,
    LEADER,
    PAVED,
    Served,
    blocked,
    healthy,
    own_home,
    request_on_a_second_version,
    seed,
    session_for,
)

pytestmark = pytest.mark.slow
WEIGHT_LIMIT = 100_000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with own_home(tmp_path_factory, "pages", outbox=True) as (home, store, env):
        now = datetime.utcnow()
        ids = seed(store, now)
        for pid in ("path-mouse", "path-nojs", "path-keys", "path-look"):  # one fresh request per path
            ids[pid] = request_on_a_second_version(store, pid, f"Tamale {pid[5:]} Partnership", now)
        services.import_document(store, blocked("leader-path", "Tamale Leader Partnership"), actor=LEADER)
        assert approvals.open_request(store, "leader-path", requested_by=LEADER).blocked
        from isp_lifecycle import review

        review.run_review(store, now.date())
        with Served(store, Settings(home=home, remind_days=7)) as site:
            env.setenv("ISP_WEB_URL", site.url)
            from isp_lifecycle.notifications.deliver import deliver_pending

            deliver_pending(store)
            site.ids, site.store, site.outbox = ids, store, home / "outbox"
            yield site


def link_in_email(site, partnership_id: str, event: str = "approval-requested", who: str = DIRECTOR,
                  page: str = "/approvals/") -> str:
    """The page's address as the email gives it, on a line of its own."""
    for path in site.outbox.glob(f"*{event}*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if who not in message["To"] or message["X-ISP-Partnership"] != partnership_id:
            continue
        text = message.get_body(preferencelist=("plain",)).get_content()
        return next(line for line in text.splitlines() if line.startswith(site.url + page))
    raise AssertionError(f"no {event} email to {who} for {partnership_id} in {site.outbox}")


def sign_in_by_email(browser, site, who: str = DIRECTOR) -> None:
    """On the sign-in page the link led to: ask for a link, take it from the outbox, press Sign in."""
    assert "/auth/sign-in" in browser.url  # the approval email's link alone grants nothing
    before = set(site.outbox.glob("*.eml"))
    browser.submit("Email me a sign-in link", email=who)
    [new] = set(site.outbox.glob("*.eml")) - before
    message = email.message_from_bytes(new.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    browser.open(next(line for line in text.splitlines() if line.startswith(site.url + "/auth/link")))
    browser.submit("Sign in")


def sign_in_directly(browser, site, who: str = DIRECTOR) -> None:
    """A session cookie made by the sign-in service (the link itself is the path tests' part)."""
    browser.open(f"{site.url}/auth/sign-in")
    browser.driver.add_cookie({"name": "isp_session", "value": session_for(site.store, who).secret, "path": "/"})


def stage(site, partnership_id: str) -> str:
    with site.store.sessions() as session:
        return session.get(PartnershipRow, partnership_id).stage


def _shows_findings_and_diff(page_text: str) -> None:
    assert "The Convene gate passed" in page_text and "1 advisory" in page_text
    assert "Partnerships are between organizations, not individuals" in page_text  # the handbook's element
    assert "What to do:" in page_text
    assert "Version 2 compared with version 1" in page_text and PAVED in page_text


def test_the_director_approves_from_the_email_with_a_mouse(fresh, served):
    link = link_in_email(served, "path-mouse")
    assert link == f"{served.url}/approvals/{served.ids['path-mouse']}"
    fresh.open(link)
    sign_in_by_email(fresh, served)
    assert fresh.url == link
    _shows_findings_and_diff(fresh.text())
    fresh.submit("Approve", note="Well prepared.")
    assert "The partnership has moved to Commit" in fresh.text()
    assert stage(served, "path-mouse") == "commit"


def test_the_director_approves_with_javascript_disabled(browser_nojs, served):
    browser_nojs.clear_cookies()
    link = link_in_email(served, "path-nojs")
    browser_nojs.open(link)
    sign_in_by_email(browser_nojs, served)
    _shows_findings_and_diff(browser_nojs.text())
    browser_nojs.submit("Approve")
    assert "The partnership has moved to Commit" in browser_nojs.text()
    assert stage(served, "path-nojs") == "commit"


def test_the_director_approves_with_only_the_keyboard(fresh, served):
    link = link_in_email(served, "path-keys")
    fresh.open(link)
    fresh.tab_to(lambda e: e.get_attribute("name") == "email")
    before = set(served.outbox.glob("*.eml"))
    fresh.type_keys(DIRECTOR, Keys.ENTER, navigates=True)
    [new] = set(served.outbox.glob("*.eml")) - before
    text = email.message_from_bytes(new.read_bytes(), policy=email.policy.default).get_body(
        preferencelist=("plain",)).get_content()
    fresh.open(next(line for line in text.splitlines() if line.startswith(served.url + "/auth/link")))
    fresh.tab_to(lambda e: e.text == "Sign in")
    fresh.type_keys(Keys.ENTER, navigates=True)
    _shows_findings_and_diff(fresh.text())
    fresh.tab_to(lambda e: e.get_attribute("name") == "note")
    fresh.type_keys("Approved from the keyboard.")
    fresh.tab_to(lambda e: e.text == "Approve")
    fresh.type_keys(Keys.ENTER, navigates=True)
    assert "The partnership has moved to Commit" in fresh.text()
    assert stage(served, "path-keys") == "commit"


@pytest.mark.parametrize("page", ["inbox", "decision", "partnership", "portfolio"])
def test_the_page_is_accessible_fits_a_phone_is_light_and_stays_on_its_origin(fresh, served, page, tmp_path):
    sign_in_directly(fresh, served)
    url = served.url + {"inbox": "/inbox", "decision": f"/approvals/{served.ids['path-look']}",
                        "partnership": "/partnerships/path-look", "portfolio": "/portfolio"}[page]
    load = fresh.open(url)
    assert fresh.axe() == []
    scroll, viewport = fresh.sideways_overflow()
    assert scroll == viewport == 390
    assert 0 < load.transferred < WEIGHT_LIMIT, load.transferred
    assert load.other_origins(served.url) == []
    assert fresh.csp_violations() == []
    assert fresh.screenshot(tmp_path / f"{page}.png").stat().st_size > 10_000


def test_a_partnership_named_with_a_script_tag_renders_as_text(fresh, served):
    sign_in_directly(fresh, served)
    fresh.open(f"{served.url}/approvals/{served.ids['tamale-hostile']}")
    assert fresh.driver.find_element("tag name", "h1").text == HOSTILE_NAME
    assert fresh.driver.title != "owned"
    fresh.open(f"{served.url}/inbox")
    assert HOSTILE_NAME in fresh.text() and fresh.driver.title != "owned"


def test_an_inline_script_is_blocked_by_the_csp_and_the_browser_reports_it(fresh, served):
    fresh.open(f"{served.url}/test-inline-script")
    assert fresh.driver.title == "inline"
    assert any("inline" in message for message in fresh.csp_violations())


def test_the_decision_page_cannot_be_framed(fresh, served):
    sign_in_directly(fresh, served)
    target = f"{served.url}/approvals/{served.ids['tamale-health']}"
    page = '<!doctype html><html lang="en"><head><title>host</title></head><body><main>host</main></body></html>'
    with StaticSite({"/host": ({}, page)}) as elsewhere:  # another origin, with no CSP of its own
        assert fresh.framed(elsewhere.url + "/host", target) != target
        assert fresh.framed(elsewhere.url + "/host", elsewhere.url + "/host") == elsewhere.url + "/host"


def test_a_leader_goes_from_the_gate_blocked_email_to_a_requested_move(fresh, served, tmp_path):
    from isp_lifecycle.cli.store import dump_yaml

    link = link_in_email(served, "leader-path", "gate-blocked", LEADER, "/partnerships/")
    assert link == f"{served.url}/partnerships/leader-path"
    fresh.open(link)
    sign_in_by_email(fresh, served, LEADER)
    text = fresh.text()
    assert "is blocked" in text and "1 blocking" in text and "What to do:" in text
    assert "Engage and identify the stakeholders in each sector" in text  # the handbook's words

    data = blocked("leader-path", "Tamale Leader Partnership").to_data()
    data["partners"][1]["sector"] = "privat"
    wrong = tmp_path / "wrong.yaml"
    with wrong.open("w") as out:
        dump_yaml(data, out)
    fresh.submit("Upload", text=wrong.read_text())
    line = next(i for i, t in enumerate(wrong.read_text().splitlines(), 1) if t.strip() == "sector: privat")
    assert "This version was not saved" in fresh.text() and f"Line {line}, partners[1].sector" in fresh.text()

    fixed = tmp_path / "fixed.yaml"
    with fixed.open("w") as out:
        dump_yaml(healthy(id="leader-path", name="Tamale Leader Partnership").to_data(), out)
    fresh.driver.find_element("name", "file").send_keys(str(fixed))
    fresh.submit("Upload")
    assert "Version 2 is saved." in fresh.text()
    fresh.submit("Check the gate now")
    assert "The gate today (not recorded)" in fresh.text() and "The Convene gate passes" in fresh.text()
    fresh.submit("Request the move")
    assert "/approvals/" in fresh.url and "Waiting for the mission director or a delegate" in fresh.text()


def test_a_director_filters_the_portfolio_by_mission_and_opens_what_needs_attention(fresh, served):
    from selenium.webdriver.support.ui import Select

    sign_in_directly(fresh, served)
    fresh.open(f"{served.url}/portfolio")
    Select(fresh.driver.find_element("name", "mission")).select_by_visible_text("USAID/Ghana")
    fresh.submit("Show")
    assert "mission=USAID%2FGhana" in fresh.url and "of USAID/Ghana" in fresh.text()
    first = fresh.driver.find_element("css selector", ".cards li")
    assert "decision waiting" in first.text
    fresh.navigating(first.find_element("css selector", "a.title").click)
    assert "/partnerships/" in fresh.url and "A move is waiting for a decision" in fresh.text()
