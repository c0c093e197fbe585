"""The lessons page and the lessons brief in a real browser (Chromium via Selenium): at 390 px,
with only the keyboard, without JavaScript, and clean under axe-core."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from isp_lifecycle import assessment_lessons, services
from isp_lifecycle.cli import main
from isp_lifecycle.settings import Settings

from ..browser.conftest import browser, browser_nojs, fresh  # noqa: F401  (fixtures)
from ..pages.site import CONTACT, DIRECTOR, Served, healthy, own_home, seed, session_for
from .conftest import FakeAssessments, given

pytestmark = pytest.mark.slow
HOSTILE = '<script>document.title="owned"</script> <img src=x> & a very-long-word-' + "x" * 80


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with own_home(tmp_path_factory, "lessons") as (home, store, env):
        seed(store, datetime.utcnow())
        data = healthy(id="tamale-lessons", name="Tamale Lessons Partnership").to_data()
        data["reviews"] = [{"date": "2026-10-01", "lessons": [HOSTILE, "Ama Mensah\nled the\ntraining."]}]
        services.import_document(store, healthy(**data))
        env.setattr(assessment_lessons, "lessons", FakeAssessments([
            given("tamale-health", "USAID/Ghana", date(2026, 10, 2), "Internal: the district budget.", shareable=False),
            given("tamale-old", "USAID/Ghana", date(2026, 10, 3), "Keep returning to the vision.",
                  principle="shared-vision")]))
        with Served(store, Settings(home=home, remind_days=7)) as site:
            site.store, site.home = store, home
            yield site


def sign_in(browser, site, who: str = DIRECTOR) -> None:
    browser.open(f"{site.url}/auth/sign-in")
    browser.driver.add_cookie({"name": "isp_session", "value": session_for(site.store, who).secret, "path": "/"})


@pytest.mark.parametrize("who", [DIRECTOR, CONTACT])
def test_the_lessons_page_is_accessible_fits_a_phone_and_stays_on_its_origin(fresh, served, who):
    sign_in(fresh, served, who)
    load = fresh.open(f"{served.url}/lessons")
    assert "Lessons learned" in fresh.text() and "Volunteers need refresher training" in fresh.text()
    assert ("Internal: the district budget." in fresh.text()) == (who == DIRECTOR)
    assert fresh.axe() == []
    assert fresh.sideways_overflow() == (390, 390)
    assert load.other_origins(served.url) == [] and fresh.csp_violations() == []
    assert fresh.driver.title != "owned" and HOSTILE.split(" & ")[0] in fresh.text()


def test_a_director_filters_by_principle_with_only_the_keyboard(fresh, served):
    sign_in(fresh, served)
    fresh.open(f"{served.url}/lessons")
    fresh.tab_to(lambda e: e.get_attribute("name") == "principle")
    fresh.type_keys("Build")  # the option "Build and maintain a vision", chosen by typing
    fresh.tab_to(lambda e: e.text == "Show")
    fresh.type_keys(Keys.ENTER, navigates=True)
    assert "principle=shared-vision" in fresh.url
    assert "1 lesson" in fresh.text() and "Keep returning to the vision." in fresh.text()
    assert "Volunteers need refresher training" not in fresh.text()


def test_a_contact_filters_by_partnership_without_javascript(browser_nojs, served):  # noqa: F811
    browser_nojs.clear_cookies()
    sign_in(browser_nojs, served, CONTACT)
    browser_nojs.open(f"{served.url}/lessons")
    browser_nojs.submit("Show", partnership="tamale-lessons")
    assert "partnership=tamale-lessons" in browser_nojs.url
    assert "2 lessons" in browser_nojs.text() and "Ama Mensah" in browser_nojs.text()  # a page for the partners


def test_the_brief_opened_from_disk_is_accessible_fits_a_phone_and_asks_for_nothing(fresh, served, tmp_path):
    out = tmp_path / "brief.html"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ISP_HOME", str(served.home))
        env.delenv("ISP_DATABASE_URL", raising=False)
        assert main(["lessons", "--brief", str(out)]) == 0
    page = Path(out).as_uri()
    load = fresh.open(page)
    assert load.urls == [page]
    text = fresh.text()
    assert "Keep returning to the vision." in text and "Internal: the district budget." not in text
    assert "Ama" not in text and "[name withheld]" in text
    assert fresh.axe() == []
    assert fresh.sideways_overflow() == (390, 390)
    assert fresh.driver.title.startswith("Lessons from intersectoral partnerships")
