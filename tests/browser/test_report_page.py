"""``isp report`` opened from disk in the page tests' real browser: the portfolio page's content,
as accessible (axe-core) and as usable at 390 px as the page itself, asking for nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from isp_lifecycle import report, review, services

from ..pages.site import LEADER, blocked, own_home, seed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    with own_home(tmp_path_factory, "report") as (home, store, _):
        today = datetime.utcnow().date()
        seed(store, datetime.utcnow())
        review.run_review(store, today - timedelta(days=7))
        services.import_document(store, blocked("tamale-old", "Tamale Water Partnership"), actor=LEADER)
        review.run_review(store, today)
        html, _ = report.render(store, web_url=None)
    path = home / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_the_report_from_disk_is_accessible_fits_a_phone_and_asks_for_nothing_else(fresh, report_file, tmp_path):
    load = fresh.open(report_file.as_uri())
    assert "Portfolio review as of" in fresh.text() and "Across reviews" in fresh.text()
    assert fresh.axe() == []
    scroll, viewport = fresh.sideways_overflow()
    assert scroll == viewport == 390
    assert load.urls == [report_file.as_uri()]
    assert fresh.screenshot(tmp_path / "report.png").stat().st_size > 10_000


def test_the_reports_findings_open_with_the_keyboard_alone(fresh, report_file):
    from selenium.webdriver.common.keys import Keys

    fresh.open(report_file.as_uri())
    summary = fresh.tab_to(lambda element: element.tag_name == "summary")
    details = summary.find_element("xpath", "..")
    assert details.get_attribute("open") is None
    fresh.type_keys(Keys.ENTER)
    opened = details.text.splitlines()
    assert details.get_attribute("open") is not None and opened[0] == "Findings and what to do" and len(opened) > 1
