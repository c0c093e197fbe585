"""Screenshots of the pages for the README, made in the browser the tests use.

    .venv/bin/python -m tests.browser.screenshots      # or: make screenshots

Builds a throw-away store (the page tests' own partnerships), serves the pages on 127.0.0.1,
signs in as the mission director and saves each page at phone width (390 px) into
``docs/screenshots/``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    from isp_lifecycle.settings import Settings
    from isp_lifecycle.store import Store

    from isp_lifecycle import approvals, services

    from ..pages.site import DIRECTOR, LEADER, Served, blocked, request_on_a_second_version, seed, session_for
    from .harness import Browser, available

    why = available()
    if why:
        print(why, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="isp-shots-") as home:
        os.environ.update(ISP_HOME=home, ISP_AUDIT_KEY="screenshots")
        store = Store.open(f"sqlite:///{home}/isp.db")
        now = datetime.utcnow()
        seed(store, now)
        from isp_lifecycle import review

        review.run_review(store, now.date() - timedelta(days=7))  # an earlier review: the portfolio's trends
        request_id = request_on_a_second_version(store, "tamale-mnh", "Northern Region Mothers and Newborns", now)
        services.import_document(store, blocked("tamale-blocked", "Tamale Clinics Partnership"), actor=LEADER)
        approvals.open_request(store, "tamale-blocked", requested_by=LEADER)
        review.run_review(store, now.date())
        browser = Browser()
        try:
            with Served(store, Settings(home=Path(home), remind_days=7)) as site:
                browser.open(f"{site.url}/auth/sign-in")
                browser.driver.add_cookie({"name": "isp_session", "value": session_for(store, DIRECTOR).secret,
                                           "path": "/"})
                pages = (("inbox", "/inbox"), ("decision", f"/approvals/{request_id}"),
                         ("partnership", "/partnerships/tamale-blocked"), ("portfolio", "/portfolio"))
                for name, path in pages:
                    browser.open(site.url + path)
                    print(browser.screenshot(OUT / f"{name}.png").relative_to(ROOT))
        finally:
            browser.quit()
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
