"""`isp serve` writes a checkpoint of the audit log every day under $ISP_HOME/checkpoints/."""

import json

from isp_lifecycle import services
from tests.store.conftest import backend, database_url, doc, env, store  # noqa: F401  (fixtures)


def test_isp_serve_schedules_the_audit_checkpoint_daily():
    from isp_lifecycle.flows.serving import deployments

    found = {d.name: d for d in deployments()}
    schedules = [s.schedule for s in found["checkpoint"].schedules]
    assert [s.cron for s in schedules] == ["7 0 * * *"]


def test_the_checkpoint_flow_writes_a_checkpoint_the_log_verifies_against(store, env, capsys):
    from isp_lifecycle.flows.checkpoint import audit_checkpoint
    from isp_lifecycle.cli import main

    services.import_document(store, doc())
    path = audit_checkpoint.fn()
    assert path.startswith(str(env / "home" / "checkpoints"))
    assert json.loads(open(path).read())["entries"] == 1
    assert main(["audit", "verify", "--checkpoint", path]) == 0

