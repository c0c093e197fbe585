"""Lifecycle tests run the real `isp` command in subprocesses against real Prefect."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ISP = str(Path(sys.executable).parent / "isp")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADER = "ama@ghs.example.org"


class Workspace:
    """An ISP_HOME with its own SQLite store, driven through the `isp` command."""

    def __init__(self, home: Path, prefect_url: str | None) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISP_"))}
        self.env.update(ISP_HOME=str(home), ISP_AUDIT_KEY="flow-test-key", ISP_USER="tester@mission.example.org",
                        DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false",
                        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
        if prefect_url:
            self.env["PREFECT_API_URL"] = prefect_url

    def isp(self, *args, check=None, timeout=300) -> subprocess.CompletedProcess:
        done = subprocess.run([ISP, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check is not None:
            assert done.returncode == check, f"isp {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def popen(self, *args, log: Path | None = None) -> subprocess.Popen:
        """Start `isp` in the background; a long-running one writes to ``log`` (a pipe nobody
        reads would fill up and block it)."""
        if log is not None:
            out = open(log, "w")
            return subprocess.Popen([ISP, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, text=True)
        return subprocess.Popen([ISP, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def python(self, code: str, timeout=300) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done

    def sql(self, query: str) -> list[tuple]:
        engine = create_engine(f"sqlite:///{self.home / 'isp.db'}")
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(query))]
        finally:
            engine.dispose()

    def stage(self, partnership_id: str) -> str:
        return self.sql(f"SELECT stage FROM partnerships WHERE id = '{partnership_id}'")[0][0]

    def flow_run_states(self, partnership_id: str) -> list[str]:
        code = (
            "import json\nfrom flows import runtime\nruntime.connect()\n"
            "from prefect.client.orchestration import get_client\n"
            "from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags\n"
            "with get_client(sync_client=True) as c:\n"
            f"    runs = c.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=runtime.tags({partnership_id!r}))))\n"
            "print(json.dumps([r.state.type.value for r in runs]))\n"
        )
        return json.loads(self.python(code).stdout.strip().splitlines()[-1])


@pytest.fixture
def workspace(tmp_path, prefect_server):
    return Workspace(tmp_path / "home", prefect_server.url)
