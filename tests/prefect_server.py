"""One real Prefect server per test session, shared by every test that runs flows.

Start-up costs 15-30 s, so it is paid once and hidden where it can be: when the collected
tests need it, the server is launched as soon as collection ends (``tests/conftest.py``) and
boots while the other tests run; the ``prefect_server`` fixture waits for /api/health. Its
database is fresh every session, but copied from one that Prefect itself migrated once per
Prefect version (``migrated_database``): running Prefect's ~100 migrations is half the
start-up. Tests that need Prefect take the ``prefect_api`` fixture (declared in
tests/conftest.py); it sets PREFECT_API_URL for the test process and for subprocesses it starts.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


PREFECT = str(Path(sys.executable).parent / "prefect")


def migrated_database(cache: Path) -> Path | None:
    """An empty Prefect database migrated by Prefect itself, made once per Prefect version and kept
    in ``cache``; None when it cannot be made (the server then migrates its own, as before)."""
    from importlib.metadata import version

    template = cache / f"prefect-{version('prefect')}.db"
    if template.exists():
        return template
    work = cache / f"making-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PREFECT_HOME=str(work), **QUIET)
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    try:
        done = subprocess.run([PREFECT, "server", "database", "upgrade", "-y"], env=env, capture_output=True,
                              timeout=300)
        if done.returncode != 0 or not (work / "prefect.db").exists():
            return None
        os.replace(work / "prefect.db", template)  # atomic: a concurrent session sees all of it or none
        return template
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectServer:
    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = dict(os.environ, PREFECT_HOME=str(home), **QUIET)
        self.env.pop("PREFECT_API_URL", None)
        if database_url:
            self.env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
        self.proc: subprocess.Popen | None = None

    def launch(self, template: Path | None = None) -> "PrefectServer":
        """Start the server process and return at once; ``template``: a migrated database to start from."""
        if template is not None and "PREFECT_API_DATABASE_CONNECTION_URL" not in self.env:
            shutil.copyfile(template, self.home / "prefect.db")
        log = open(self.home / "server.log", "ab")
        self.proc = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def start(self, timeout: float = 120, template: Path | None = None) -> "PrefectServer":
        if self.proc is None:
            self.launch(template)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited early; see {self.home / 'server.log'}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"prefect server not ready after {timeout} s; see {self.home / 'server.log'}")

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """Stop a server started in its own session: SIGTERM to its process group, SIGKILL if it
    has not ended within ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
