"""`isp approve` records the decision and applies the move in one transaction, before it
touches any workflow: the store is the record, Prefect only finishes its run."""

import pytest

from .conftest import DIRECTOR, FIXTURES, LEADER, Workspace

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)

HEALTHY = str(FIXTURES / "healthy-convene.yaml")
PID = "tamale-health"
ASK = (
    "from datetime import date\n"
    "from isp_lifecycle import approvals\nfrom isp_lifecycle.store import Store\n"
    f"approvals.open_request(Store.open(), {PID!r}, requested_by={LEADER!r}, as_of=date(2026, 11, 27))\n"
)


def asked(tmp_path) -> Workspace:
    """A pending request, opened without Prefect, in a workspace whose Prefect address answers nothing."""
    ws = Workspace(tmp_path / "home", "http://127.0.0.1:9/api")
    ws.isp("import", HEALTHY, check=0)
    ws.python(ASK)
    assert ws.sql("SELECT status FROM approval_requests") == [("pending",)]
    return ws


def test_an_approval_moves_the_stage_even_when_no_workflow_can_be_reached(tmp_path):
    ws = asked(tmp_path)
    ws.env["PREFECT_CLIENT_MAX_RETRIES"] = "0"  # the address answers nothing: no need to retry it
    done = ws.isp("approve", PID, "--as", DIRECTOR, "--note", "ready", check=0)
    assert done.stdout.splitlines() == [f"{PID}: request #1 approved by {DIRECTOR}; applying",
                                        f"{PID}: moved convene → commit (now commit)"]
    assert "the decision is applied" in done.stderr
    assert ws.stage(PID) == "commit"
    assert ws.sql("SELECT count(*) FROM stage_transitions") == [(1,)]


def test_a_decision_by_an_asserted_identity_is_refused_when_sign_in_is_required(tmp_path):
    ws = asked(tmp_path)
    ws.env["ISP_REQUIRE_SIGNED_IN"] = "1"
    refused = ws.isp("approve", PID, "--as", DIRECTOR)
    assert refused.returncode == 1 and "ISP_REQUIRE_SIGNED_IN=1" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert ws.stage(PID) == "convene"
    assert ws.sql("SELECT status FROM approval_requests") == [("pending",)]
    assert ws.sql("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1") == [("approve.refused",)]


def test_a_bad_setting_is_one_clear_line_and_exit_2(tmp_path):
    ws = Workspace(tmp_path / "home", "http://127.0.0.1:9/api")
    ws.env["ISP_REMIND_DAYS"] = "x"
    bad = ws.isp("list")
    assert bad.returncode == 2
    assert bad.stderr == "isp: ISP_REMIND_DAYS must be a whole number of days (0 or more), not 'x'\n"
