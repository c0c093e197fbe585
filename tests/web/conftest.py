"""A real ``isp web`` (uvicorn) per test session on its own store, and helpers to act on it.

Tests share the server but not data: each makes its own partnership (``partnership`` fixture,
a fresh id) and its own tokens. The server's standard error (uvicorn's access log included)
goes to a file that ``test_no_token_reaches_any_log`` reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from isp_lifecycle import services, tokens
from isp_lifecycle.document import load, validate
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import AuditEntry, Base

from ..prefect_server import stop_group

FIXTURES = Path(__file__).parent.parent / "fixtures"
AUDIT_KEY = "web-test-audit-key"
ADMIN = "admin@isp.example.org"
DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADER = "ama.mensah@ghs.example.org"
CONTACT = "hawa.issah@nmwa.example.org"
OUTSIDER = "mallory@elsewhere.example.org"


class WebServer:
    """``isp web --port 0`` in a subprocess; ``url`` is the address it announced."""

    def __init__(self, home: Path, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.log = home / f"web-{uuid.uuid4().hex[:6]}.log"
        self.env = dict(os.environ, ISP_HOME=str(home), ISP_DATABASE_URL=database_url, ISP_AUDIT_KEY=AUDIT_KEY,
                        ISP_ADMINS=ADMIN, **(extra_env or {}))
        for name in ("ISP_URL", "ISP_TOKEN", "ISP_WEB_URL", "PREFECT_API_URL"):
            self.env.pop(name, None)
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, workers: int = 1, timeout: float = 60) -> WebServer:
        isp = str(Path(sys.executable).parent / "isp")
        self.proc = subprocess.Popen([isp, "web", "--port", "0", "--workers", str(workers)], env=self.env,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"listening on (http://\S+)", self.log.read_text())
            if found:
                self.url = found.group(1)
                try:
                    if httpx.get(self.url + "/api/v1/health", timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"isp web exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"isp web did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_group(self.proc)


@pytest.fixture(scope="session")
def web_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web-home")


@pytest.fixture(scope="session")
def web_store(web_home):
    saved = {k: os.environ.get(k) for k in ("ISP_AUDIT_KEY", "ISP_HOME")}
    os.environ["ISP_AUDIT_KEY"], os.environ["ISP_HOME"] = AUDIT_KEY, str(web_home)
    opened = Store.open(f"sqlite:///{web_home / 'isp.db'}")
    yield opened
    opened.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def web(web_home, web_store):
    server = WebServer(web_home, str(web_store.engine.url)).start()
    yield server
    server.stop()


@pytest.fixture
def partnership(web_store) -> str:
    """A fresh partnership in ``implement`` whose gate passes as of 2026-11-27."""
    data = load(FIXTURES / "gh-mnh-north.yaml").to_data()
    data["id"] = f"gh-{uuid.uuid4().hex[:10]}"
    services.import_document(web_store, validate(data), actor=ADMIN)
    return data["id"]


class Client:
    """A person calling the service with their own token."""

    def __init__(self, server: WebServer, store: Store, email: str | None) -> None:
        self.email = email
        self.made = tokens.create(store, email) if email else None
        headers = {"Authorization": f"Bearer {self.made.secret}"} if self.made else {}
        self.http = httpx.Client(base_url=server.url, headers=headers, timeout=60)

    def __getattr__(self, name):
        return getattr(self.http, name)


@pytest.fixture
def as_(web, web_store):
    made: list[Client] = []

    def person(email: str | None) -> Client:
        made.append(Client(web, web_store, email))
        return made[-1]

    yield person
    for client in made:
        client.http.close()


def audit_count(store: Store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def last_audit(store: Store) -> AuditEntry:
    with store.sessions() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


def record(store: Store) -> dict[str, list[tuple]]:
    """Every row but the audit log's and the tokens' (whose last use a call may refresh)."""
    out = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("audit_log", "api_tokens"):
                continue
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return out
