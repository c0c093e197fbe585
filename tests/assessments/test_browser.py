"""In a real browser (Chromium via Selenium): a partner contact follows the invitation from the
outbox, signs in, rates, comments, adds a lesson, changes an answer, and the partnership page
shows the result by sector. With JavaScript, without it, and checked with axe-core at phone width.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from selenium.webdriver.support.ui import Select

from isp_lifecycle.settings import Settings

from ..browser.conftest import browser, browser_nojs, fresh  # noqa: F401  (fixtures)
from ..browser.test_decision_page import link_in_email, sign_in_by_email, sign_in_directly
from ..pages.site import Served, own_home
from .conftest import two_partnerships

pytestmark = pytest.mark.slow
HAWA, YAW = "hawa.issah@nmwa.example.org", "yaw.darko@ghs.example.org"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with own_home(tmp_path_factory, "assess", outbox=True, ISP_ASSESSMENTS="1") as (home, store, env):
        two_partnerships(store)
        site = Served(store, Settings(home=home, remind_days=7))
        env.setenv("ISP_WEB_URL", site.url)
        from isp_lifecycle import review
        from isp_lifecycle.notifications.deliver import deliver_pending

        review.run_review(store, datetime.utcnow().date())
        deliver_pending(store)
        with site:
            site.store, site.outbox = store, home / "outbox"
            yield site


def choose(browser, name: str, value: str) -> None:
    browser.driver.find_element("css selector", f"input[name='{name}'][value='{value}']").click()


def walk(browser, site, who: str, rating: str, changed: str, lesson: str) -> str:
    link = link_in_email(site, "gh-mnh-north", "assessment-invitation", who, "/partnerships/")
    browser.open(link)
    sign_in_by_email(browser, site, who)
    assert browser.url == link and "How is the partnership going?" in browser.text()
    choose(browser, "rating.flexibility", rating)
    browser.driver.find_element("name", "comment.flexibility").send_keys(f"{who} says {rating}.")
    choose(browser, "stays.volunteer-training", "yes")
    browser.submit("Save my answers")
    assert "Your answers are saved" in browser.text()
    Select(browser.driver.find_element("name", "principle")).select_by_value("share-information")
    choose(browser, "shareable", "yes")
    browser.submit("Add the lesson", text=lesson)
    assert lesson in browser.text()
    choose(browser, "rating.flexibility", changed)
    browser.submit("Save my answers")
    assert browser.driver.find_element(
        "css selector", f"input[name='rating.flexibility'][value='{changed}']").is_selected()
    browser.open(f"{site.url}/partnerships/gh-mnh-north")
    return browser.driver.find_element("css selector", "section[aria-labelledby='partners-view']").text


def test_a_contact_follows_the_invitation_rates_comments_adds_a_lesson_and_changes_an_answer(fresh, served):
    shown = walk(fresh, served, HAWA, "red", "amber", "Radio reaches more mothers than posters.")
    assert "Civil society: amber" in shown
    assert f"{HAWA} says red." in shown and "Northern Midwives Association (amber)" in shown


def test_the_same_without_javascript(browser_nojs, served):
    browser_nojs.clear_cookies()
    shown = walk(browser_nojs, served, YAW, "green", "red", "Name a budget line for each district.")
    assert "Public sector: red" in shown and "Ghana Health Service, Northern Region (red)" in shown


@pytest.mark.parametrize("page", ["form", "partnership", "portfolio"])
def test_the_pages_are_accessible_and_fit_a_phone(fresh, served, page):
    sign_in_directly(fresh, served, "kboateng@mission.example.org" if page == "portfolio" else HAWA)
    from isp_lifecycle import review_results

    review_id = review_results.find_review(served.store, datetime.utcnow().date()).review_id
    fresh.open(served.url + {"form": f"/partnerships/gh-mnh-north/assessments/{review_id}",
                             "partnership": "/partnerships/gh-mnh-north", "portfolio": "/portfolio"}[page])
    assert page == "form" or "What partners say, by principle" in fresh.text() or "What the partners say" in fresh.text()
    assert fresh.axe() == []
    scroll, viewport = fresh.sideways_overflow()
    assert scroll == viewport == 390
    assert fresh.csp_violations() == []


def test_a_contact_answers_with_only_the_keyboard(fresh, served):
    from selenium.webdriver.common.keys import Keys

    who = "abena.quaye@tamalemobile.example.com"
    link = link_in_email(served, "gh-mnh-north", "assessment-invitation", who, "/partnerships/")
    sign_in_directly(fresh, served, who)
    fresh.open(link)
    fresh.tab_to(lambda e: e.get_attribute("name") == "rating.flexibility")
    fresh.type_keys(Keys.SPACE)
    fresh.tab_to(lambda e: e.get_attribute("name") == "comment.flexibility")
    fresh.type_keys("Typed without a mouse.")
    fresh.tab_to(lambda e: e.text == "Save my answers")
    fresh.type_keys(Keys.ENTER, navigates=True)
    assert "Your answers are saved" in fresh.text()
    checked = fresh.driver.find_element("css selector", "input[name='rating.flexibility']:checked")
    assert checked.get_attribute("value") == "green"
    assert fresh.driver.find_element("name", "comment.flexibility").get_attribute("value") == "Typed without a mouse."
