"""``isp serve``: the long-running process that runs the web application and HTTP API,
resumed approvals, delivery, reminders and the scheduled review, and (when no
PREFECT_API_URL is set) the local Prefect server the other commands then find and use.

The web application runs in a thread of this process (uvicorn; it imports no Prefect) and
``$ISP_HOME/serve.json`` names its address while it runs, so that the ``isp`` command finds it.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import local_server
from ._prefect import configure, show_output
from .runtime import drain_background, healthy, prefect_home, server_file

DELIVER_EVERY_SECONDS = 60
ESCALATE_CRON = "0 * * * *"  # hourly: reminders are due by the day, so an hour is prompt enough


def start_local_server(port: int) -> subprocess.Popen | None:
    """Start ``prefect server start`` on 127.0.0.1 (database under PREFECT_HOME) unless one answers."""
    url = f"http://127.0.0.1:{port}/api"
    if healthy(url):
        os.environ["PREFECT_API_URL"] = url
        return None
    _require_free(port, "the Prefect server", "--prefect-port")
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "server.log", "ab")
    prefect = str(Path(sys.executable).parent / "prefect")
    # Prefect's UI asks its server where the API is; left alone it answers port 4200 whatever
    # port the server really uses, and the UI on any other port cannot reach its API.
    os.environ.setdefault("PREFECT_UI_API_URL", url)
    proc = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ))
    started = time.monotonic()
    while not healthy(url):
        if proc.poll() is not None:
            raise SystemExit(f"isp serve: the Prefect server did not start; see {home / 'server.log'}")
        if time.monotonic() - started > 180:
            os.killpg(proc.pid, signal.SIGTERM)
            raise SystemExit(f"isp serve: the Prefect server did not answer in 180 s; see {home / 'server.log'}")
        time.sleep(0.5)
    print(f"isp serve: Prefect server on {url} (UI: http://127.0.0.1:{port}), started in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    os.environ["PREFECT_API_URL"] = url
    server_file().write_text(json.dumps({"url": url, "pid": proc.pid}))
    return proc


def _require_free(port: int, what: str, option: str, host: str = "127.0.0.1") -> None:
    """Refuse at once, naming the port, when ``port`` cannot be listened on: otherwise the
    server started on it dies and leaves only its log to say why."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"isp serve: port {port} on {host} is not free for {what} ({exc.strerror}); "
                             f"choose another with {option}") from None


def deployments():
    from .advance import DEPLOYMENT_NAME, advance_partnership
    from .checkpoint import checkpoint_deployment
    from .escalate import escalate_approvals
    from .notify import deliver_notifications

    found = [
        advance_partnership.to_deployment(name=DEPLOYMENT_NAME),
        deliver_notifications.to_deployment(
            name="deliver", interval=int(os.environ.get("ISP_DELIVER_EVERY_SECONDS", DELIVER_EVERY_SECONDS))),
        escalate_approvals.to_deployment(name="escalate", cron=os.environ.get("ISP_ESCALATE_CRON", ESCALATE_CRON)),
        checkpoint_deployment(),
    ]
    try:
        from .review import review_deployment
    except ImportError:  # the portfolio review is optional in this build
        return found
    return found + [review_deployment()]


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # stop like Ctrl-C: the finally block below cleans up


def serve_file() -> Path:
    from isp_lifecycle.settings import current

    return current().home / "serve.json"


def start_web(port: int, host: str = "127.0.0.1"):
    """The web application on ``host:port`` in a thread; returns its uvicorn server once it
    answers, and writes ``$ISP_HOME/serve.json``."""
    import uvicorn

    from isp_lifecycle.web import server

    if port:
        _require_free(port, "the web application", "--web-port (0: any free port)", host)
    sock = server.bind(host, port)
    web = uvicorn.Server(server.config(sock))
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, name="isp-web", daemon=True)
    thread.start()
    started = time.monotonic()
    while not web.started:
        if not thread.is_alive() or time.monotonic() - started > 60:
            raise SystemExit("isp serve: the web application did not start; see the messages above")
        time.sleep(0.05)
    url = server.url_of(sock)
    path = serve_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"web_url": url, "pid": os.getpid()}))
    print(f"isp serve: web application and API on {url}", file=sys.stderr, flush=True)
    return web


def stop_web(web) -> None:
    try:
        serve_file().unlink()
    except OSError:
        pass
    web.should_exit = True


def take_over_local_server() -> None:
    """Stop the local Prefect server the lifecycle commands started in this ISP_HOME (same
    database): from now on `isp serve`'s own server is the one they find."""
    if local_server.stop(prefect_home()):
        print("isp serve: stopped the local Prefect server of this ISP_HOME; taking over from it",
              file=sys.stderr, flush=True)


def serve_forever(port: int = 4200, web_port: int = 8420) -> int:
    show_output()  # the long-running process: Prefect's lines are its log
    configure()
    take_over_local_server()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    proc = None
    if not os.environ.get("PREFECT_API_URL"):
        proc = start_local_server(port)
    web = None
    try:
        web = start_web(web_port)
        from prefect import serve

        print("isp serve: serving advance, delivery, reminders and reviews; Ctrl-C stops", file=sys.stderr, flush=True)
        serve(*deployments(), print_starting_message=False)
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            stop_web(web)
        if proc is not None:
            try:
                server_file().unlink()
            except OSError:
                pass
            drain_background()  # send the last run logs while the server still answers
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    if proc is not None:
        # Prefect's background workers would keep retrying the server just stopped, and hold
        # the interpreter's exit for minutes: everything is flushed and stopped, so leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
