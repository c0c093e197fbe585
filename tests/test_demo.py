"""`isp demo` tells the whole story and leaves behind what it says it did."""

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

import pytest

ISP = str(Path(sys.executable).parent / "isp")


@pytest.mark.slow
def test_the_demo_runs_end_to_end_and_leaves_the_outbox_report_and_moved_partnership(tmp_path):
    workspace = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISP_", "PREFECT_"))}
    done = subprocess.run([ISP, "demo", "--workspace", str(workspace)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert len(lines) >= 8

    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (workspace / "outbox").glob("*.eml")]
    def text(m):
        return m.get_body(preferencelist=("plain",)).get_content()
    asked = [m for m in mails if "kboateng@mission.example.org" in m["To"] and "decision" in m["Subject"]]
    assert asked, [m["Subject"] for m in mails]
    assert "/approvals/" in text(asked[0]) and "isp approve" not in text(asked[0])
    blocked = [m for m in mails if "otieno@kisumuwater.example.org" in m["To"]
               and "No business (private) partner has been convened." in text(m)]
    assert blocked, "the blocked-gate message with its findings is missing"

    report = (workspace / "report.html").read_text()
    for path in (workspace / "portfolio").glob("*.yaml"):
        name = next(line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
                    if line.startswith("name:"))
        assert name in report, f"the report does not name {name}"

    exported = subprocess.run([ISP, "export", "tamale-health"], env=dict(env, ISP_HOME=str(workspace)),
                              capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0
    assert "stage: commit" in exported.stdout
