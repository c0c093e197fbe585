"""`isp advance`, `approve` and `pending` through a running service (cli.md, "Through a service"):
the token's person acts, exit codes follow the HTTP statuses, and Prefect is never imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..prefect_server import free_port
from .conftest import DIRECTOR, LEADER, OUTSIDER

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)

PROBE = ("import json, sys\nfrom isp_lifecycle.cli import main\nrc = main(sys.argv[1:])\n"
         "print(json.dumps({'rc': rc, 'prefect': any(m.split('.')[0] == 'prefect' for m in sys.modules)}),"
         " file=sys.stderr)\n")


def isp(web_home, url, token, *args):
    env = dict(os.environ, ISP_HOME=str(web_home / "cli-home"), ISP_URL=url, ISP_TOKEN=token or "")
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120)
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    assert last.startswith("{"), done.stderr[-3000:]
    probe = json.loads(last)
    return probe["rc"], done.stdout, done.stderr, probe["prefect"]


def test_advance_and_approve_through_the_service_move_the_stage_without_prefect(web, web_home, as_, partnership):
    leader, director = as_(LEADER), as_(DIRECTOR)
    rc, out, err, prefect = isp(web_home, web.url, leader.made.secret, "advance", partnership, "--as-of", "2026-11-27")
    assert (rc, prefect) == (0, False), err
    assert "approval request #" in out and web.url in err
    rc, out, err, prefect = isp(web_home, web.url, director.made.secret, "pending", "--format", "json")
    assert (rc, prefect) == (0, False) and partnership in out
    rc, out, err, prefect = isp(web_home, web.url, director.made.secret, "approve", partnership, "--note", "ok")
    assert (rc, prefect) == (0, False), err
    assert "moved implement → review" in out
    assert leader.get(f"/api/v1/partnerships/{partnership}").json()["stage"] == "review"
    rc, _, err, _ = isp(web_home, web.url, director.made.secret, "approve", partnership)
    assert rc == 1 and "no pending approval request" in err


def test_refusals_through_the_service_keep_the_cli_exit_codes(web, web_home, as_, partnership):
    leader = as_(LEADER)
    assert isp(web_home, web.url, leader.made.secret, "advance", partnership, "--as-of", "2026-11-27")[0] == 0
    rc, _, err, _ = isp(web_home, web.url, leader.made.secret, "approve", partnership)  # the requester: 403
    assert rc == 1 and "HTTP 403" in err
    rc, _, err, _ = isp(web_home, web.url, leader.made.secret, "approve", partnership, "--as", DIRECTOR)
    assert rc == 1 and "--as" in err  # naming anyone else
    rc, _, err, _ = isp(web_home, web.url, as_(OUTSIDER).made.secret, "approve", partnership)
    assert rc == 2 and "HTTP 404" in err
    rc, _, err, _ = isp(web_home, web.url, "isp_not-a-real-token", "pending")
    assert rc == 1 and "HTTP 401" in err
    rc, _, err, _ = isp(web_home, f"http://127.0.0.1:{free_port()}", leader.made.secret, "pending")
    assert rc == 1 and "cannot be reached" in err
