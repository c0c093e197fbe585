"""Real servers on 127.0.0.1 for the notification tests: an aiosmtpd SMTP server that counts
what it accepts by Message-ID, and a small ``http.server`` webhook that records each post.
The store fixtures are those of ``tests/store`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.store.conftest import backend, database_url, doc, env, store, verdict_for  # noqa: F401  (fixtures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """An SMTP server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages = []  # email.message.EmailMessage, in order of acceptance
        self.raw: list[bytes] = []
        self.rcpt: list[str] = []  # envelope recipients (RCPT TO) of every accepted message
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=default_policy)
        with self.lock:
            self.messages.append(message)
            self.raw.append(raw)
            self.rcpt += envelope.rcpt_tos
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def count_by_message_id(self) -> Counter:
        with self.lock:
            return Counter(m["Message-ID"] for m in self.messages)


@pytest.fixture
def smtp(monkeypatch):
    sink = SmtpSink()
    sink.start()
    monkeypatch.setenv("ISP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ISP_SMTP_PORT", str(sink.port))
    yield sink
    sink.stop()


class WebhookSink:
    def __init__(self) -> None:
        self.posts: list[tuple[dict, dict]] = []  # (headers, JSON body)
        self.answer = 200
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.answer < 300:
                    sink.posts.append((dict(self.headers), json.loads(body)))
                self.send_response(sink.answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(monkeypatch):
    sink = WebhookSink()
    monkeypatch.setenv("ISP_WEBHOOK_URL", sink.url)
    yield sink
    sink.close()
