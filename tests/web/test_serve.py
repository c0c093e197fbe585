"""`isp serve` runs the web application beside Prefect, names it in serve.json while it runs,
and the `isp` command finds it there (cli.md, "Through a service")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest

from isp_lifecycle import tokens

from ..prefect_server import QUIET, free_port
from .conftest import AUDIT_KEY, LEADER


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.slow
def test_serve_answers_on_http_writes_serve_json_and_gives_prefect_ui_its_real_port(tmp_path, web_store, partnership):
    home = tmp_path / "home"
    prefect_port, web_port = free_port(), free_port()
    env = dict(os.environ, ISP_HOME=str(home), ISP_DATABASE_URL=str(web_store.engine.url), ISP_AUDIT_KEY=AUDIT_KEY,
               ISP_DELIVER_EVERY_SECONDS="3600", **QUIET)
    for name in ("PREFECT_API_URL", "ISP_URL", "ISP_TOKEN", "ISP_WEB_URL", "PREFECT_UI_API_URL"):
        env.pop(name, None)
    isp = os.path.join(os.path.dirname(sys.executable), "isp")
    log = open(tmp_path / "serve.log", "wb")
    serve = subprocess.Popen([isp, "serve", "--port", str(prefect_port), "--web-port", str(web_port)], env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    serve_json = home / "serve.json"
    try:
        assert wait_for(serve_json.exists, 180), (tmp_path / "serve.log").read_text()
        found = json.loads(serve_json.read_text())
        assert found == {"web_url": f"http://127.0.0.1:{web_port}", "pid": serve.pid}
        assert httpx.get(found["web_url"] + "/api/v1/health").json() == {"status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{prefect_port}/ui-settings", timeout=10) as answer:
            assert json.load(answer)["api_url"] == f"http://127.0.0.1:{prefect_port}/api"
        token = tokens.create(web_store, LEADER).secret
        cli_env = dict(env, ISP_TOKEN=token)
        done = subprocess.run([isp, "advance", partnership, "--as-of", "2026-11-27"], env=cli_env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and found["web_url"] in done.stderr, done.stderr
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=120)
    assert not serve_json.exists()
