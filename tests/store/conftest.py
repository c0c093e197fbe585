"""The store suite runs twice: on SQLite (a temporary file) and on PostgreSQL at 127.0.0.1:5432.

The PostgreSQL session creates its own uniquely named databases and drops them at the end.
Under `make test` (and so in CI) a missing PostgreSQL server is a failure; under `make test-fast`
its tests are skipped with one line saying why (``tests/conftest.py``, ``postgres_or_skip``).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from isp_lifecycle.document import load
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import Base

from ..conftest import PG_SERVER, postgres_or_skip

FIXTURES = Path(__file__).parent.parent / "fixtures"
AUDIT_KEY = "test-audit-key"


class SqliteBackend:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new_database(self) -> str:
        return f"sqlite:///{self.folder / f'isp-{uuid.uuid4().hex[:8]}.db'}"

    def copy_of(self, url: str) -> str:
        """A new database holding what the one at ``url`` holds (a template filled once)."""
        import sqlite3

        copy = self.new_database()
        with sqlite3.connect(url.removeprefix("sqlite:///")) as source, \
                sqlite3.connect(copy.removeprefix("sqlite:///")) as target:
            source.backup(target)
        source.close()
        target.close()
        return copy

    def drop_all(self) -> None:  # the temporary folder goes with pytest's tmp_path_factory
        pass


class PostgresBackend:
    name = "postgresql"

    def __init__(self) -> None:
        self.prefix = f"isp_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)

    def new_database(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1]}/{name}"

    def copy_of(self, url: str) -> str:
        """A new database holding what the one at ``url`` holds (a template filled once, unused)."""
        name = f"{self.prefix}_{len(self.created)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
        self.created.append(name)
        return f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1]}/{name}"

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_backend(kind: str, tmp_path_factory, folder: str = "sqlite"):
    """A backend of ``kind`` (``sqlite`` or ``postgresql``; the latter skipped, or failed under
    ISP_TEST_REQUIRE_PG=1, when no server answers). Every suite that runs on both uses this."""
    if kind == "postgresql":
        postgres_or_skip()
        return PostgresBackend()
    return SqliteBackend(tmp_path_factory.mktemp(folder))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    chosen = new_backend(request.param, tmp_path_factory)
    yield chosen
    chosen.drop_all()


@pytest.fixture(scope="session")
def database_url(backend) -> str:
    """One database per backend for the session, migrated once; each test starts it empty."""
    url = backend.new_database()
    Store.open(url).close()
    return url


@pytest.fixture
def env(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("ISP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ISP_DATABASE_URL", database_url)
    monkeypatch.setenv("ISP_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("ISP_USER", "tester@mission.example.org")
    monkeypatch.delenv("ISP_CHANNELS", raising=False)
    return tmp_path


@pytest.fixture
def store(env, database_url):
    opened = Store.open(database_url)
    with opened.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    yield opened
    opened.close()


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key: compare two dumps to prove nothing changed."""
    out: dict[str, list[tuple]] = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
        out["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return out


def without_audit(snapshot: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {name: rows for name, rows in snapshot.items() if name != "audit_log"}


def fixture_docs():
    return {path.name: load(path) for path in sorted(FIXTURES.glob("*.yaml"))}


def doc(name: str = "gh-mnh-north.yaml", **changes):
    """A fixture document, with top-level fields changed."""
    from isp_lifecycle.document import validate

    data = load(FIXTURES / name).to_data()
    data.update(changes)
    return validate(data)


def verdict_for(passed: bool = True, findings=()):
    """A small evaluator standing in for the gate rules: it answers what it is told to."""

    def evaluate(document, gate, as_of):
        return {
            "partnership": document.id,
            "gate": gate,
            "as_of": as_of.isoformat(),
            "passed": passed,
            "rules": {"version": "test-1", "digest": "sha256:" + "0" * 64},
            "findings": list(findings),
        }

    return evaluate


def table_names(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())
