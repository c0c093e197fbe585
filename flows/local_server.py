"""The local Prefect server of the embedded default: one per ``ISP_HOME``, started on first
need, shared by every later lifecycle command, gone after some idle minutes.

Without ``PREFECT_API_URL`` and without a running ``isp serve``, every lifecycle command
would start Prefect's temporary server of its own (12 s and more each time). Instead the
first command that needs Prefect starts this small supervisor in the background
(``python -m isp_lifecycle.flows.local_server``, no Prefect imported): it runs
``prefect server start`` on 127.0.0.1 on a port the system chooses (never one ``isp serve``
takes by default), on the same database as ever (``$PREFECT_HOME/prefect.db``, where
``isp serve``'s server finds the same runs later), and writes its own marker,
``$PREFECT_HOME/local-server.json`` (``{"url", "pid"}``). Later commands find the marker,
check the server answers, and use it: nothing goes through the HTTP API of ``isp serve``.

It stops by itself:

- after ``IDLE_SECONDS`` without a command using it: each command touches the marker and
  holds a shared lock on ``local-server.users`` for as long as it runs, so a long one is
  never cut short;
- when ``isp serve`` takes over: ``isp serve`` stops it before starting its own server
  (``stop()``), and it also stops as soon as the server of an ``isp serve`` answers.

Its output goes to ``$PREFECT_HOME/local-server.log``, never to the terminal.
"""

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

MARKER = "local-server.json"
USERS = "local-server.users"
LOCK = "local-server.lock"
LOG = "local-server.log"
SERVE_MARKER = "server.json"  # the marker of `isp serve`'s own Prefect server (flows/runtime.py)
IDLE_SECONDS = 600
START_TIMEOUT = 180
RESERVED_PORTS = frozenset({4200, 8420})  # `isp serve`'s defaults: Prefect and the web application
POLL_SECONDS = 1.0

# Settings of the server process itself: quiet, no telemetry, no UI (`isp serve` has one).
SERVER_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_CLI_PROMPT": "false",
}


class LocalServerError(RuntimeError):
    """The local server could not be started (its log says why)."""


def healthy(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_marker(home: Path) -> dict | None:
    """``{"pid", "url"}`` of the home's supervisor while it runs (``url`` is None while its
    server is starting); else None."""
    try:
        data = json.loads((home / MARKER).read_text())
        pid, url = int(data["pid"]), data.get("url")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return {"pid": pid, "url": url if isinstance(url, str) else None} if _alive(pid) else None


def running_url(home: Path) -> str | None:
    """The address of this home's local server when it runs and answers; else None."""
    found = read_marker(home)
    return found["url"] if found and found["url"] and healthy(found["url"]) else None


@contextmanager
def _locked(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_users_handle = None  # kept open for the life of the process: the shared lock marks it as a user


def mark_in_use(home: Path) -> None:
    """Tell the supervisor this process uses the server (until it exits) and reset its idle clock."""
    global _users_handle
    if _users_handle is None:
        _users_handle = open(home / USERS, "a+")
        fcntl.flock(_users_handle, fcntl.LOCK_SH)
    try:
        os.utime(home / MARKER)
    except OSError:
        pass


def ensure(home: Path, start: bool = True, idle_seconds: int = IDLE_SECONDS) -> tuple[str | None, bool]:
    """This process becomes a user of the home's local server, started now if none runs and
    ``start`` is true; ``(url, started_now)``, ``(None, False)`` when none runs and none was started.

    The shared lock is taken first: a supervisor that is stopping for idleness holds the
    lock exclusively until its marker is gone, so a server found here stays for as long as
    this process runs."""
    home.mkdir(parents=True, exist_ok=True)
    mark_in_use(home)
    url = running_url(home)
    if url is not None or not start:
        return url, False
    with _locked(home / LOCK):  # one starter at a time; the others then find its marker
        found = read_marker(home)
        if found is not None:  # running, or still starting for a starter that gave up waiting
            return _wait_ready(home, found["pid"]), False
        return launch(home, idle_seconds), True


def launch(home: Path, idle_seconds: int = IDLE_SECONDS) -> str:
    """Start the supervisor in the background and wait until its server answers."""
    with open(home / LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "isp_lifecycle.flows.local_server", str(home), str(idle_seconds)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ))
    try:
        return _wait_ready(home, proc.pid, proc)
    finally:
        if proc.poll() is None:
            proc.returncode = 0  # it runs on by design: no "still running" warning at exit


def _wait_ready(home: Path, pid: int, proc: subprocess.Popen | None = None) -> str:
    """Wait until the supervisor ``pid`` names its answering server in the marker."""
    deadline = time.monotonic() + START_TIMEOUT + 10
    while time.monotonic() < deadline:
        found = read_marker(home)
        if found and found["pid"] == pid and found["url"] and healthy(found["url"]):
            return found["url"]
        if (proc.poll() is not None) if proc is not None else not _alive(pid):
            raise LocalServerError(f"the local Prefect server did not start; see {home / LOG}")
        time.sleep(0.2)
    _stop_pid(pid)
    raise LocalServerError(f"the local Prefect server did not answer in {START_TIMEOUT} s; see {home / LOG}")


def stop(home: Path, timeout: float = 30) -> bool:
    """Stop this home's local server if one runs (``isp serve`` taking over, tests); True if one did."""
    found = read_marker(home)
    if found is None:
        return False
    _stop_pid(found["pid"], timeout)
    return True


def _stop_pid(pid: int, timeout: float = 30) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)  # the supervisor leads its group: the server goes too
        except ProcessLookupError:
            pass


# ---- the supervisor process -------------------------------------------------------------


def free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


@contextmanager
def _unused(home: Path):
    """Yields True, holding the users' lock exclusively (no command can start using the
    server meanwhile), when no command uses the server; else yields False."""
    with open(home / USERS, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _serve_took_over(home: Path) -> bool:
    try:
        url = json.loads((home / SERVE_MARKER).read_text())["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return healthy(url)


def _start_server(home: Path, port: int) -> subprocess.Popen:
    prefect = str(Path(sys.executable).parent / "prefect")
    env = dict(os.environ, PREFECT_HOME=str(home), **SERVER_ENV)
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            stdin=subprocess.DEVNULL, env=env)


def _why_stop(home: Path, server: subprocess.Popen, idle_seconds: float, last_busy: float) -> str | None:
    if server.poll() is not None:
        return f"the server ended (exit {server.returncode})"
    if _serve_took_over(home):
        return "isp serve took over"
    if time.time() - max(last_busy, _mtime(home / MARKER)) > idle_seconds:
        return f"idle for {idle_seconds:.0f} s"
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def supervise(home: Path, idle_seconds: float) -> int:
    """Run the server until it is idle, replaced or told to stop; remove the marker on the way out."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("told to stop"))
    signal.signal(signal.SIGINT, lambda *_: stopping.append("interrupted"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    _write_marker(home, None)  # starting: findable, and stoppable, already
    server = _start_server(home, port)
    started = time.monotonic()
    why = None
    try:
        while not healthy(url):
            if stopping or server.poll() is not None or time.monotonic() - started > START_TIMEOUT:
                return 1
            time.sleep(0.2)
        _write_marker(home, url)
        print(f"local Prefect server on {url}, ready in {time.monotonic() - started:.1f} s", flush=True)
        last_busy = time.time()
        while not stopping and not why:
            with _unused(home) as unused:
                if not unused:
                    last_busy = time.time()
                why = _why_stop(home, server, idle_seconds, last_busy)
                if why and unused:
                    _remove_marker(home)  # under the lock: a command arriving now starts a new one
            if not why:
                time.sleep(POLL_SECONDS)
        return 0
    finally:
        _remove_marker(home)
        _end(server)
        print(f"local Prefect server stopped: {why or (stopping or ['start-up failed'])[0]}", flush=True)


def _write_marker(home: Path, url: str | None) -> None:
    partial = home / f"{MARKER}.{os.getpid()}"
    partial.write_text(json.dumps({"pid": os.getpid(), "url": url}))
    os.replace(partial, home / MARKER)  # readers see the whole marker or the one before


def _remove_marker(home: Path) -> None:
    found = None
    try:
        found = json.loads((home / MARKER).read_text()).get("pid")
    except (OSError, ValueError, AttributeError):
        pass
    if found == os.getpid():
        (home / MARKER).unlink(missing_ok=True)


def _end(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(supervise(Path(sys.argv[1]), float(sys.argv[2])))
