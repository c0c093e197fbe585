"""The local Prefect server of the embedded default: started by the first lifecycle command
that needs Prefect, reused by the later ones in the same ISP_HOME, quiet unless ``-v``,
gone after its idle time or when ``isp serve`` takes over, and never on a port that
``isp serve`` takes by default."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from isp_lifecycle.flows import local_server

from ..conftest import ROOT
from ..local_prefect import stop_local_servers
from ..prefect_server import free_port, migrated_database
from .conftest import DIRECTOR, FIXTURES, LEADER, Workspace

HEALTHY = str(FIXTURES / "healthy-convene.yaml")
GH = str(FIXTURES / "gh-mnh-north.yaml")
KE = str(FIXTURES / "ke-water-kisumu.yaml")
AS_OF = "2026-11-27"
PREFECTS_OWN_LINES = ("Starting temporary server", "Flow run '", "prefect.io")


@pytest.fixture
def homes(tmp_path):
    """A folder for the test's homes; every local server started under it is stopped after."""
    yield tmp_path
    stop_local_servers(tmp_path)


def migrated(prefect_home: Path) -> Path:
    """A Prefect home holding an already migrated database (half of a first start-up is migrating)."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    template = migrated_database(ROOT / ".pytest_cache" / "prefect-db")
    if template is not None:
        shutil.copyfile(template, prefect_home / "prefect.db")
    return prefect_home


def start_from_another_process(home: Path, idle_seconds: int) -> subprocess.Popen:
    """What a command does on first need: ensure the home's server, print its address, exit."""
    code = ("import sys\nfrom pathlib import Path\nfrom isp_lifecycle.flows import local_server\n"
            f"print(local_server.ensure(Path({str(home)!r}), idle_seconds={idle_seconds})[0])\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    return False


def test_a_marker_whose_supervisor_is_gone_names_no_server_and_stopping_nothing_is_harmless(tmp_path):
    (tmp_path / local_server.MARKER).write_text(json.dumps({"pid": 2 ** 22 + 12345, "url": "http://127.0.0.1:9/api"}))
    assert local_server.read_marker(tmp_path) is None
    assert local_server.running_url(tmp_path) is None
    assert local_server.stop(tmp_path) is False
    (tmp_path / local_server.MARKER).write_text("{not json")
    assert local_server.read_marker(tmp_path) is None


def test_the_local_server_never_takes_a_port_isp_serve_takes_by_default():
    assert {4200, 8420} <= local_server.RESERVED_PORTS
    assert all(local_server.free_port() not in local_server.RESERVED_PORTS for _ in range(50))


@pytest.mark.slow
def test_two_commands_needing_prefect_at_once_share_one_server_which_stops_itself_once_idle(homes):
    home = migrated(homes / "prefect")
    first, second = start_from_another_process(home, 4), start_from_another_process(home, 4)
    urls = {first.communicate(timeout=300)[0].strip(), second.communicate(timeout=300)[0].strip()}
    assert first.returncode == second.returncode == 0
    (url,) = urls
    marker = local_server.read_marker(home)
    assert marker["url"] == url and local_server.healthy(url)
    assert int(url.rsplit(":", 1)[1].split("/")[0]) not in local_server.RESERVED_PORTS
    # both commands have exited: after 4 idle seconds the supervisor stops, its server with it
    assert gone(marker["pid"], timeout=60), "the local server did not stop when idle"
    assert not (home / local_server.MARKER).exists()
    assert not local_server.healthy(url)
    assert "idle" in (home / local_server.LOG).read_text()


@pytest.mark.slow
def test_lifecycle_commands_reuse_the_local_server_the_first_one_started_and_stay_quiet_without_v(homes):
    ws = Workspace(homes / "home", None)
    migrated(ws.home / "prefect")
    ws.isp("import", HEALTHY, GH, KE, check=0)
    blocked = ws.isp("advance", "ke-water-kisumu", check=1)  # a blocked gate needs no Prefect at all
    assert "BLOCKED" in blocked.stdout
    assert not (ws.home / "prefect" / local_server.MARKER).exists()
    advanced = ws.isp("advance", "tamale-health", "--as", LEADER, "--as-of", AS_OF, check=0)
    started = local_server.read_marker(ws.home / "prefect")
    assert started and started["url"]
    assert "starting the local Prefect server" in advanced.stderr
    approved = ws.isp("approve", "tamale-health", "--as", DIRECTOR, check=0)
    assert ws.stage("tamale-health") == "commit"
    assert local_server.read_marker(ws.home / "prefect") == started  # the same server, not a new one
    assert "starting" not in approved.stderr
    assert ws.flow_run_states("tamale-health") == ["COMPLETED"]  # the waiting run is settled, not left paused
    for said in (blocked, advanced, approved):
        assert not [line for line in PREFECTS_OWN_LINES if line in said.stdout + said.stderr], said.stderr
    verbose = ws.isp("advance", "gh-mnh-north", "--as", LEADER, "--as-of", AS_OF, "-v", check=0)
    assert "Flow run '" in verbose.stderr and started["url"].rsplit("/", 1)[0] in verbose.stderr
    assert local_server.read_marker(ws.home / "prefect") == started
    quiet = ws.isp("review", "--as-of", AS_OF, check=None)  # alerts or not: its exit code is the review's
    assert not [line for line in PREFECTS_OWN_LINES if line in quiet.stdout + quiet.stderr], quiet.stderr
    told = ws.isp("review", "--as-of", "2027-01-04", "-v", check=None)  # another date: a new review, a new run
    assert "Flow run '" in told.stderr, told.stderr


@pytest.mark.slow
def test_isp_serve_started_in_the_same_home_takes_over_from_the_local_server(homes):
    ws = Workspace(homes / "home", None)
    prefect_home = migrated(ws.home / "prefect")
    ws.isp("import", HEALTHY, check=0)
    ws.isp("advance", "tamale-health", "--as", LEADER, "--as-of", AS_OF, check=0)
    local = local_server.read_marker(prefect_home)
    port = free_port()
    serve = ws.popen("serve", "--web-port", "0", "--prefect-port", str(port), log=homes / "serve.log")
    try:
        assert gone(local["pid"], timeout=60), "isp serve did not stop the local server"
        deadline = time.monotonic() + 240
        while not (prefect_home / "server.json").exists() and time.monotonic() < deadline:
            assert serve.poll() is None, (homes / "serve.log").read_text()
            time.sleep(0.5)
        assert json.loads((prefect_home / "server.json").read_text())["url"] == f"http://127.0.0.1:{port}/api"
        # the waiting run moved with the database: the approval settles it on isp serve's server
        ws.isp("approve", "tamale-health", "--as", DIRECTOR, check=0)
        assert ws.stage("tamale-health") == "commit"
        deadline = time.monotonic() + 120
        while ws.flow_run_states("tamale-health") != ["COMPLETED"] and time.monotonic() < deadline:
            time.sleep(2)
        assert ws.flow_run_states("tamale-health") == ["COMPLETED"]
        assert local_server.read_marker(prefect_home) is None  # no command started another local server
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    assert "taking over" in (homes / "serve.log").read_text()
