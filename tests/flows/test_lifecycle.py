"""A partnership moves convene → closed through Prefect, with the director deciding from
another process while the flow waits suspended (no process holds it)."""

import json
import time

import pytest

from .conftest import DELEGATE, DIRECTOR, FIXTURES, LEADER, Workspace

HEALTHY = str(FIXTURES / "healthy-convene.yaml")
PID = "tamale-health"
AS_OF = "2026-11-27"


def walk_the_lifecycle(ws: Workspace, look_at_runs_from: int = 4) -> None:
    """Advance and approve through every gate; check Prefect's runs at the first
    ``look_at_runs_from`` stages (each look costs a process, and in embedded mode a server)."""
    ws.isp("import", HEALTHY, check=0)
    for step, (stage, target, decider) in enumerate((("convene", "commit", DIRECTOR), ("commit", "implement", DELEGATE),
                                                     ("implement", "review", DIRECTOR), ("review", "closed", DELEGATE))):
        look = step < look_at_runs_from
        args = ["advance", PID, "--as", LEADER, "--as-of", AS_OF] + (["--to", "closed"] if target == "closed" else [])
        advanced = ws.isp(*args, check=0)
        assert "approval request" in advanced.stdout
        # the advance process has exited; the run waits suspended, held by no process
        assert not look or ws.flow_run_states(PID).count("PAUSED") == 1
        assert ws.stage(PID) == stage
        ws.isp("approve", PID, "--as", decider, "--note", f"{stage} done", check=0)
        assert ws.stage(PID) == target
        assert not look or "PAUSED" not in ws.flow_run_states(PID)
    transitions = ws.sql(f"SELECT from_stage, to_stage FROM stage_transitions WHERE partnership_id = '{PID}' ORDER BY id")
    assert transitions == [("convene", "commit"), ("commit", "implement"), ("implement", "review"), ("review", "closed")]
    exported = ws.isp("export", PID, check=0).stdout
    assert "stage: closed" in exported
    verify = ws.isp("audit", "verify", check=0)
    assert verify.returncode == 0


@pytest.mark.slow
def test_a_whole_lifecycle_on_a_real_prefect_server(workspace):
    walk_the_lifecycle(workspace)


@pytest.mark.slow
def test_a_whole_lifecycle_on_prefects_embedded_server_with_nothing_started_by_hand(tmp_path):
    walk_the_lifecycle(Workspace(tmp_path / "home", None), look_at_runs_from=1)


@pytest.mark.slow
def test_a_decision_typed_into_the_prefect_form_by_an_outsider_is_refused_audited_and_the_flow_waits_again(workspace):
    ws = workspace
    ws.isp("import", HEALTHY, check=0)
    ws.isp("advance", PID, "--as", LEADER, "--as-of", AS_OF, check=0)
    audits_before = ws.sql("SELECT count(*) FROM audit_log")[0][0]
    # what the UI form does: resume the paused run with input that passes the JSON schema
    ws.python(
        "from isp_lifecycle.flows import runtime\nruntime.connect()\n"
        f"(run,) = runtime.waiting_runs({PID!r})\n"
        "assert runtime.resume(run.id, {'decision': 'approve', 'approver': 'intruder@example.org', 'note': 'me'})\n"
        "outcome, _ = runtime.execute(runtime.read_run(run.id))\n"  # what `isp serve` would do next
        "assert outcome == 'suspended', outcome\n"
    )
    assert ws.stage(PID) == "convene"
    assert ws.sql("SELECT status FROM approval_requests") == [("pending",)]
    refusals = ws.sql("SELECT action, detail FROM audit_log WHERE action LIKE '%refused'")
    assert len(refusals) == 1 and "intruder@example.org" in refusals[0][1]
    assert ws.sql("SELECT count(*) FROM audit_log")[0][0] == audits_before + 1
    assert ws.flow_run_states(PID) == ["PAUSED"]
    ws.isp("approve", PID, "--as", DIRECTOR, check=0)
    assert ws.stage(PID) == "commit"
    assert ws.sql("SELECT count(*) FROM stage_transitions") == [(1,)]


@pytest.mark.slow
def test_two_decisions_arriving_at_once_apply_exactly_one(workspace):
    ws = workspace
    ws.isp("import", HEALTHY, check=0)
    ws.isp("advance", PID, "--as", LEADER, "--as-of", AS_OF, check=0)
    first = ws.popen("approve", PID, "--as", DIRECTOR)
    second = ws.popen("approve", PID, "--as", DELEGATE, "--reject")
    codes = sorted([first.wait(timeout=300), second.wait(timeout=300)])
    assert codes == [0, 1], (first.stderr.read(), second.stderr.read())
    decided = ws.sql("SELECT status FROM approval_requests")
    assert len(decided) == 1 and decided[0][0] in ("approved", "rejected")
    moves = ws.sql("SELECT count(*) FROM stage_transitions")[0][0]
    assert moves == (1 if decided[0][0] == "approved" else 0)


@pytest.mark.slow
def test_a_serve_process_killed_while_the_flow_waits_loses_no_decision_and_applies_it_once(workspace):
    ws = workspace
    ws.isp("import", HEALTHY, check=0)
    serve = ws.popen("serve", "--web-port", "0", log=ws.home.parent / "serve.log")
    try:
        ws.isp("advance", PID, "--as", LEADER, "--as-of", AS_OF, check=0)
    finally:
        serve.kill()  # the process that would run the resumed flow dies while the flow waits
        serve.wait(timeout=30)
    ws.isp("approve", PID, "--as", DIRECTOR, "--timeout", "5", check=0)
    assert ws.stage(PID) == "commit"
    moved = ws.sql("SELECT count(*) FROM notifications WHERE event = 'stage-moved'")[0][0]
    # a restart (the scheduled sweep, a second approve) changes nothing more
    ws.python("from isp_lifecycle.flows.escalate import escalate_approvals\nescalate_approvals()\n")
    assert ws.isp("approve", PID, "--as", DIRECTOR).returncode == 1
    assert ws.sql("SELECT count(*) FROM stage_transitions") == [(1,)]
    assert ws.sql("SELECT count(*) FROM notifications WHERE event = 'stage-moved'")[0][0] == moved > 0


@pytest.mark.slow
def test_a_decision_recorded_when_the_workflow_is_gone_is_applied_by_the_next_run_once(workspace):
    ws = workspace
    ws.isp("import", HEALTHY, check=0)
    ws.isp("advance", PID, "--as", LEADER, "--as-of", AS_OF, check=0)
    # the decision is recorded but the process dies before resuming anything
    ws.python("from isp_lifecycle import services\nfrom isp_lifecycle.store import Store\n"
              f"services.decide(Store.open(), {PID!r}, by={DIRECTOR!r}, approve=True)\n")
    ws.python("from isp_lifecycle.flows.escalate import escalate_approvals\nprint(escalate_approvals())\n")
    ws.python("from isp_lifecycle.flows.escalate import escalate_approvals\nprint(escalate_approvals())\n")
    assert ws.stage(PID) == "commit"
    assert ws.sql("SELECT count(*) FROM stage_transitions") == [(1,)]


@pytest.mark.slow
def test_approve_refuses_before_reaching_any_workflow(tmp_path):
    """No Prefect needed: every refusal happens in the store, first."""
    ws = Workspace(tmp_path / "home", "http://127.0.0.1:9/api")  # an address where nothing answers
    ws.isp("import", HEALTHY, check=0)
    assert ws.isp("approve", "no-such-partnership", "--as", DIRECTOR).returncode == 2
    refused = ws.isp("approve", PID, "--as", DIRECTOR)
    assert refused.returncode == 1 and "no pending approval request" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert ws.sql("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1") == [("approve.refused",)]


@pytest.mark.slow
def test_the_lifecycle_commands_work_against_a_prefect_server_on_postgresql(tmp_path):
    import uuid

    import psycopg

    from ..conftest import postgres_or_skip
    from ..prefect_server import PrefectServer

    server_url = postgres_or_skip()
    name = f"isp_prefect_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{server_url}/{name}", autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # Prefect's server needs it
        home = tmp_path / "prefect"
        home.mkdir()
        server = PrefectServer(home, f"postgresql+asyncpg://{server_url.split('://', 1)[1]}/{name}").start()
        try:
            ws = Workspace(tmp_path / "home", server.url)
            ws.isp("import", HEALTHY, check=0)
            ws.isp("advance", PID, "--as", LEADER, "--as-of", AS_OF, check=0)
            assert ws.flow_run_states(PID) == ["PAUSED"]
            ws.isp("approve", PID, "--as", DIRECTOR, check=0)
            assert ws.stage(PID) == "commit"
            assert ws.flow_run_states(PID) == ["COMPLETED"]
        finally:
            server.stop()
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
