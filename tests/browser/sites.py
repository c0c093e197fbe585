"""Tiny HTTP servers on 127.0.0.1 for the browser tests: fixed pages, each with its own headers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StaticSite:
    """Serves ``pages``: path → (headers, body). Start it with ``with StaticSite(...) as site``."""

    def __init__(self, pages: dict[str, tuple[dict[str, str], str]]) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                headers, body = site.pages.get(self.path, ({}, "not found"))
                data = body.encode("utf-8")
                self.send_response(200 if self.path in site.pages else 404)
                self.send_header("Content-Type", headers.get("Content-Type", "text/html; charset=utf-8"))
                for name, value in headers.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.pages = pages
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
