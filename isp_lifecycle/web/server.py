"""Running the web application under uvicorn (``isp web`` alone, ``isp serve`` beside Prefect).

The listening socket is bound here, before uvicorn starts, so that port 0 gives the address
really used: it becomes ``ISP_WEB_URL`` when that is not set (links sent out then point at
this process), and it is announced on standard error as ``isp web: listening on URL``.
Workers re-create the application from the environment (``app_from_env``).
"""

from __future__ import annotations

import logging
import os
import socket
import sys

ANNOUNCE = "isp web: listening on "


class _NoQueryStrings(logging.Filter):
    """The access log names paths, never query strings (where a sign-in link's secret would be)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


# Requests run at once per worker (the routes are plain functions, run in threads): as many
# as the store's pool has connections (``store.engine``), so that none waits for one; more
# threads only share the same two cores and one interpreter lock more finely.
THREADS = 20
# Seconds an idle client connection stays open: longer than a proxy's or a load balancer's
# idle timeout (often 60 s), so that the client, not the server, closes it; a server closing
# first races the next request sent on it, which then fails (a reset connection).
KEEP_ALIVE = 75


class _Threads:
    """The application, with its thread pool sized at startup (anyio's default is 40)."""

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            from anyio import to_thread

            to_thread.current_default_thread_limiter().total_tokens = THREADS
        await self.app(scope, receive, send)


def app_from_env():
    from . import create_app

    return _Threads(create_app())


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP.
    # Without it each response (head and body written apart) waited ~40 ms on Nagle and the
    # client's delayed acknowledgement.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"isp web: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def config(sock: socket.socket, workers: int = 1):
    import uvicorn

    os.environ.setdefault("ISP_WEB_URL", url_of(sock))
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())
    return uvicorn.Config("isp_lifecycle.web.server:app_from_env", factory=True, fd=sock.fileno(),
                          workers=workers, proxy_headers=False, server_header=False, log_level="info",
                          timeout_graceful_shutdown=5, timeout_keep_alive=KEEP_ALIVE)


def run(host: str, port: int, workers: int = 1) -> int:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    from ..settings import current

    current()  # a bad ISP_* setting stops here, with its one-line message
    sock = bind(host, port)
    print(f"{ANNOUNCE}{url_of(sock)}", file=sys.stderr, flush=True)
    serve(config(sock, workers), sock)
    return 0


def serve(cfg, sock: socket.socket) -> None:
    """Run ``cfg`` on ``sock`` until stopped: in this process, or in ``cfg.workers`` processes
    sharing the socket under uvicorn's supervisor."""
    import uvicorn

    if cfg.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(cfg, sockets=[sock]).run()  # each worker runs a Server of its own
    else:
        uvicorn.Server(cfg).run(sockets=[sock])
