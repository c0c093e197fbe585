"""The browser harness catches what it is there to catch (each check fails on a page made to fail it)."""

from __future__ import annotations

import pytest

from .sites import StaticSite

pytestmark = pytest.mark.slow

HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>' \
       '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
STRICT = {"Content-Security-Policy": "default-src 'self'; script-src 'self'; frame-ancestors 'none'"}


@pytest.fixture(scope="module")
def site():
    other = StaticSite({"/pixel.svg": ({"Content-Type": "image/svg+xml"}, "<svg xmlns='http://www.w3.org/2000/svg'/>")})
    with other:
        pages = {
            "/fits": ({}, HEAD + "<body><main><h1>Fits</h1><p>Short words.</p></main></body></html>"),
            "/wide": ({}, HEAD + '<body><main><h1>Wide</h1><div style="width:1000px">x</div></main></body></html>'),
            "/inline": (STRICT, HEAD + "<body><main><h1>Inline</h1><script>document.title='ran'</script></main></body></html>"),
            "/unlabelled": ({}, HEAD + '<body><main><h1>Form</h1><input type="text"></main></body></html>'),
            "/elsewhere": ({}, HEAD + f'<body><main><h1>Other</h1><img alt="" src="{other.url.replace("127.0.0.1", "localhost")}/pixel.svg"></main></body></html>'),
            "/framable": ({}, HEAD + "<body><main><h1>Framable</h1></main></body></html>"),
            "/unframable": (STRICT, HEAD + "<body><main><h1>Unframable</h1></main></body></html>"),
            "/keys": ({}, HEAD + '<body><main><h1>Keys</h1><a href="/fits">one</a> <a href="/wide">two</a></main></body></html>'),
        }
        with StaticSite(pages) as served:
            yield served


def test_a_page_wider_than_a_phone_is_caught_scrolling_sideways(fresh, site):
    fresh.open(site.url + "/fits")
    scroll, viewport = fresh.sideways_overflow()
    assert scroll == viewport == 390
    fresh.open(site.url + "/wide")
    scroll, viewport = fresh.sideways_overflow()
    assert scroll > viewport


def test_axe_reports_a_critical_violation_on_an_unlabelled_field(fresh, site):
    fresh.open(site.url + "/fits")
    assert fresh.axe() == []
    fresh.open(site.url + "/unlabelled")
    assert "label" in {v["id"] for v in fresh.axe()}


def test_an_inline_script_under_a_strict_csp_is_reported_and_does_not_run(fresh, site):
    fresh.open(site.url + "/inline")
    assert fresh.driver.title == "t"
    assert any("inline" in message for message in fresh.csp_violations())


def test_requests_to_another_origin_and_bytes_transferred_are_counted(fresh, site):
    load = fresh.open(site.url + "/elsewhere")
    assert load.other_origins(site.url) and load.transferred > 0
    assert fresh.open(site.url + "/fits").other_origins(site.url) == []


def test_a_page_with_frame_ancestors_none_cannot_be_framed(fresh, site):
    host = site.url.replace("127.0.0.1", "localhost") + "/fits"
    assert fresh.framed(host, site.url + "/framable") == site.url + "/framable"
    assert fresh.framed(host, site.url + "/unframable") != site.url + "/unframable"


def test_the_keyboard_alone_reaches_and_follows_a_link(fresh, site):
    from selenium.webdriver.common.keys import Keys

    fresh.open(site.url + "/keys")
    fresh.tab_to(lambda e: e.text == "two")
    fresh.type_keys(Keys.ENTER, navigates=True)
    assert fresh.url.endswith("/wide")


def test_with_javascript_disabled_no_script_runs(browser_nojs, site):
    browser_nojs.open(site.url + "/keys")
    assert browser_nojs.driver.find_element("tag name", "h1").text == "Keys"
    assert not browser_nojs.javascript


def test_a_screenshot_is_a_png_of_the_whole_page(fresh, site, tmp_path):
    fresh.open(site.url + "/fits")
    shot = fresh.screenshot(tmp_path / "fits.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
