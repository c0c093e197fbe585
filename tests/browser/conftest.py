"""Browsers shared by the page tests: one with JavaScript, one without, started once per session."""

from __future__ import annotations

import pytest

from .harness import Browser, available


def _start(**kwargs) -> Browser:
    why = available()
    if why:
        pytest.fail(f"the browser tests need a real Chromium: {why}")
    return Browser(**kwargs)


@pytest.fixture(scope="session")
def browser():
    started = _start()
    yield started
    started.quit()


@pytest.fixture(scope="session")
def browser_nojs():
    started = _start(javascript=False)
    yield started
    started.quit()


@pytest.fixture
def fresh(browser):
    """The shared browser, signed out and with its logs drained (each test starts clean)."""
    browser.clear_cookies()
    browser.network()
    browser.csp_violations()
    return browser
