"""`isp serve` brings its own Prefect server and scheduler; the other commands find and use it."""

import json
import time

import pytest

from ..prefect_server import free_port
from .conftest import DIRECTOR, FIXTURES, LEADER, Workspace

PID = "tamale-health"


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_serve_starts_a_local_server_whose_scheduler_fires_and_which_resumes_approved_runs(tmp_path):
    ws = Workspace(tmp_path / "home", None)
    ws.env["ISP_DELIVER_EVERY_SECONDS"] = "5"
    port = free_port()
    ws.isp("import", str(FIXTURES / "healthy-convene.yaml"), check=0)
    log = tmp_path / "serve.log"
    serve = ws.popen("serve", "--port", str(port), "--web-port", "0", log=log)
    server_json = tmp_path / "home" / "prefect" / "server.json"
    try:
        assert wait_for(server_json.exists, 180), log.read_text()
        url = json.loads(server_json.read_text())["url"]
        assert url == f"http://127.0.0.1:{port}/api"
        advanced = ws.isp("advance", PID, "--as", LEADER, "--as-of", "2026-11-27", check=0)
        assert url in advanced.stderr  # found and used the server `isp serve` started
        # approve once Prefect reports the advance run waiting for the decision: an approval that
        # comes first is applied too, but finds no waiting run to resume (the flow then sees it settled)
        waiting = f"from flows import runtime\nruntime.connect()\nprint(len(runtime.waiting_runs({PID!r})))\n"
        assert wait_for(lambda: ws.python(waiting).stdout.strip() == "1", 120), log.read_text()[-3000:]
        approved = ws.isp("approve", PID, "--as", DIRECTOR, check=0)
        assert "a running `isp serve` resumes the workflow" in approved.stderr
        assert ws.stage(PID) == "commit"
        # the scheduler really fires: the delivery deployment runs on its own every few seconds
        code = ("import json\nfrom flows import runtime\nruntime.connect()\n"
                "from prefect.client.orchestration import get_client\n"
                "with get_client(sync_client=True) as c:\n"
                "    runs = [r for r in c.read_flow_runs() if r.state.is_completed()]\n"
                "    names = {c.read_flow(r.flow_id).name for r in runs}\n"
                "print(json.dumps(sorted(names)))\n")
        assert wait_for(lambda: "deliver-notifications" in ws.python(code).stdout, 120)
    finally:
        serve.terminate()  # SIGTERM, as a service manager stops it
        serve.wait(timeout=120)
    assert not server_json.exists()
