"""Prefect's UI path stays usable: a waiting run is named for people, its decision form says
what is decided, a refused decision typed there shows in the form, and is recorded as asserted."""

from __future__ import annotations

import json

import pytest

from ..flows.conftest import DIRECTOR, FIXTURES, LEADER, workspace  # noqa: F401 (the fixture)

PID = "tamale-health"
READ = ("import json\nfrom flows import runtime\nruntime.connect()\n"
        "from prefect.client.orchestration import get_client\n"
        f"(run,) = runtime.waiting_runs({PID!r})\n"
        "with get_client(sync_client=True) as c:\n"
        "    read = c.read_flow_run(run.id)\n"
        "    keys = read.state.state_details.run_input_keyset\n"
        "    assert keys['description'].endswith('request-1-decision-{attempt}-description'), keys\n"
        "    name, form = read.name, c.read_flow_run_input(key=keys['description'], flow_run_id=run.id)\n"
        "print(json.dumps({'name': name, 'form': form}))\n")


def _waiting(ws, attempt: int) -> dict:
    return json.loads(ws.python(READ.replace("{attempt}", str(attempt))).stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_waiting_run_is_named_for_people_and_its_form_shows_the_decision_and_a_refusal(workspace):
    ws = workspace
    ws.isp("import", str(FIXTURES / "healthy-convene.yaml"), check=0)
    ws.isp("advance", PID, "--as", LEADER, "--as-of", "2026-11-27", check=0)
    first = _waiting(ws, 1)
    assert first["name"] == f"{PID}: convene → commit (request 1)"
    assert "convene → commit" in first["form"] and LEADER in first["form"] and "Findings" in first["form"]
    ws.python("from isp_lifecycle.flows import runtime\nruntime.connect()\n"
              f"(run,) = runtime.waiting_runs({PID!r})\n"
              "runtime.resume(run.id, {'decision': 'approve', 'approver': 'intruder@example.org', 'note': ''})\n"
              "runtime.execute(runtime.read_run(run.id))\n")
    again = _waiting(ws, 2)
    assert "refused" in again["form"] and "intruder@example.org" in again["form"]
    (detail,) = ws.sql("SELECT detail FROM audit_log WHERE action LIKE '%refused'")[0]
    assert json.loads(detail)["identity"] == {"email": "intruder@example.org", "method": "asserted",
                                              "credential": None, "client": None}
    ws.isp("approve", PID, "--as", DIRECTOR, check=0)
    assert ws.stage(PID) == "commit"
