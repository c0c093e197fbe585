"""``isp login`` end to end against a running ``isp web``, and no secret in any log of the run."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from isp_lifecycle import tokens
from isp_lifecycle.document import load
from isp_lifecycle.services import import_document
from isp_lifecycle.store import Store
from tests.store.conftest import FIXTURES

from .test_message import email_message, link_in

ISP = str(Path(sys.executable).parent / "isp")
DIRECTOR = "kboateng@mission.example.org"


def wait_for(path: Path, pattern: str, process, seconds: float = 60) -> re.Match:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text(errors="replace")) if path.exists() else None
        if found:
            return found
        assert process.poll() is None, path.read_text(errors="replace")
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared in {path}: {path.read_text(errors='replace')}")


@pytest.fixture
def isp_web(tmp_path):
    """``isp web --port 0`` in its own process, on a SQLite store of its own."""
    env = {**os.environ, "ISP_HOME": str(tmp_path / "service"), "ISP_AUDIT_KEY": "login-test-key",
           "ISP_DATABASE_URL": f"sqlite:///{tmp_path / 'isp.db'}", "ISP_CHANNELS": "outbox"}
    env.pop("ISP_WEB_URL", None)
    with Store.open(env["ISP_DATABASE_URL"]) as store:
        import_document(store, load(FIXTURES / "healthy-convene.yaml"), actor="importer@mission.example.org")
    log = tmp_path / "web.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([ISP, "web", "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = wait_for(log, r"isp web: listening on (http://\S+)", process).group(1)
    wait_for(log, r"Application startup complete", process)
    yield url, env, log
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


def sign_in_by_link(client: httpx.Client, outbox: Path) -> str:
    assert client.post("/auth/sign-in", data={"email": DIRECTOR}).status_code == 200
    [message] = outbox.glob("*.eml")
    link = link_in(email_message(message))
    page = client.get(link)
    assert ">Sign in</button>" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    assert client.post("/auth/link", data={"token": token}).status_code == 303
    return link


@pytest.mark.slow
def test_isp_login_keeps_a_token_the_person_confirmed_and_no_log_holds_a_secret(isp_web, tmp_path):
    url, env, web_log = isp_web
    user_home = tmp_path / "user"
    user_home.mkdir()
    with httpx.Client(base_url=url, timeout=30) as browser:
        link = sign_in_by_link(browser, Path(env["ISP_HOME"]) / "outbox")
        login_err = tmp_path / "login.err"
        with open(login_err, "wb") as err, open(tmp_path / "login.out", "wb") as out:
            login = subprocess.Popen([ISP, "login", url + "/"], env={**os.environ, "HOME": str(user_home)},
                                     stdout=out, stderr=err)
        shown = wait_for(login_err, r"Open (\S+) in a browser.*\n.*the code ([A-Z]{4}-[A-Z]{4})", login)
        page = browser.get(shown.group(1))
        assert shown.group(2) in page.text and "Confirm" in page.text
        confirmed = browser.post("/auth/device", data={"code": shown.group(2), "csrf_token": browser.cookies["isp_csrf"]})
        assert confirmed.status_code == 200, confirmed.text
        assert login.wait(timeout=60) == 0, login_err.read_text()
        secrets = [link.split("token=", 1)[1], browser.cookies["isp_session"], browser.cookies["isp_csrf"]]

    kept = user_home / ".config" / "isp" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    token = json.loads(kept.read_text())[url]["token"]
    me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200 and me.json()["email"] == DIRECTOR
    with Store.open(env["ISP_DATABASE_URL"]) as store:
        assert [t["method"] for t in tokens.list_tokens(store, DIRECTOR)] == ["token"]

    logs = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".log", ".err", ".out")]
    assert {web_log, login_err} <= set(logs)
    assert "GET /auth/link" in web_log.read_text(), "the access log was not written: the grep below would prove nothing"
    for secret in [*secrets, token]:
        for log in logs:
            assert secret not in log.read_text(errors="replace"), f"a secret reached {log.name}"
