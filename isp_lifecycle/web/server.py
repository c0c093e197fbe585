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


def app_from_env():
    from . import create_app

    return create_app()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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
                          timeout_graceful_shutdown=5)


def run(host: str, port: int, workers: int = 1) -> int:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from ..settings import current

    current()  # a bad ISP_* setting stops here, with its one-line message
    sock = bind(host, port)
    print(f"{ANNOUNCE}{url_of(sock)}", file=sys.stderr, flush=True)
    cfg = config(sock, workers)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        server = uvicorn.Server(cfg)
        Multiprocess(cfg, target=server.run, sockets=[sock]).run()
    else:
        uvicorn.Server(cfg).run(sockets=[sock])
    return 0
