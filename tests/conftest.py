import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Keep the rule-pack cache of test runs out of the user's home.
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / ".pytest_cache" / "xdg"))

# The PostgreSQL server the suites create their databases on (trust auth as postgres).
PG_SERVER = os.environ.get("ISP_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
# `make test` (hence CI) sets ISP_TEST_REQUIRE_PG=1: there a missing server fails the run.
# Elsewhere (`make test-fast` on a laptop) the PostgreSQL tests are skipped with one line.
REQUIRE_PG = os.environ.get("ISP_TEST_REQUIRE_PG", "") == "1"
_pg_problem: list[str | None] = []
_sampling: list[bool] = []  # set once the run's options are known


def pytest_configure(config):
    _sampling.append("not slow" in (config.getoption("markexpr", "") or ""))


def examples(full: int) -> int:
    """How many examples a property (hypothesis) tries: ``full`` in a run with the slow tests
    (``make test``, CI), a sample of a fifth (at least 50) in a run without them (``make test-fast``)."""
    return max(full // 5, min(full, 50)) if _sampling and _sampling[0] else full


def postgres_or_skip() -> str:
    """The server URL, once it answered; else skip (or fail, when ISP_TEST_REQUIRE_PG=1).

    Asked once per session: a server that is down costs one connection attempt, not one per test.
    """
    if not _pg_problem:
        try:
            import psycopg

            psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
            _pg_problem.append(None)
        except Exception as exc:  # any failure to reach it: refused, unknown host, auth
            _pg_problem.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
    if _pg_problem[0] is None:
        return PG_SERVER
    where = PG_SERVER.split("@")[-1]
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL at {where} is required (ISP_TEST_REQUIRE_PG=1): {_pg_problem[0]}", pytrace=False)
    pytest.skip(f"PostgreSQL not reachable at {where} (ISP_TEST_REQUIRE_PG=1 makes this a failure)")


@pytest.fixture(scope="session")
def pack():
    from isp_lifecycle.rulepack import load_pack

    return load_pack()


@pytest.fixture(scope="session")
def base_and_cases(pack):
    from isp_lifecycle.cases import load_cases

    return load_cases(pack.root, pack)


_early: dict = {}  # the session's Prefect server, prepared and launched in the background


def pytest_collection_finish(session):
    """If a collected test needs Prefect, prepare and launch its server now, in a thread: the server
    boots while the other tests run, and the ``prefect_server`` fixture waits for it."""
    if not any("prefect_server" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    import threading

    from .prefect_server import PrefectServer, migrated_database

    server = _early["server"] = PrefectServer(Path(session.config._tmp_path_factory.mktemp("prefect-home")))
    _early["thread"] = threading.Thread(
        target=lambda: server.launch(migrated_database(ROOT / ".pytest_cache" / "prefect-db")), daemon=True)
    _early["thread"].start()


def pytest_sessionfinish(session):
    from .local_prefect import stop_local_servers

    factory = session.config._tmp_path_factory
    if factory._basetemp is not None:  # the local Prefect servers the lifecycle commands started
        stop_local_servers(factory.getbasetemp())
    if "server" in _early:
        _early["thread"].join()
        _early.pop("server").stop()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on 127.0.0.1, one per test session (launched early, see above)."""
    from .prefect_server import PrefectServer

    if "server" in _early:
        _early["thread"].join()
        server = _early["server"]
    else:
        server = PrefectServer(tmp_path_factory.mktemp("prefect-home"))
    yield server.start()
    server.stop()


@pytest.fixture
def prefect_api(prefect_server, monkeypatch):
    """Point this test (and its subprocesses) at the session's Prefect server."""
    from .prefect_server import QUIET

    monkeypatch.setenv("PREFECT_API_URL", prefect_server.url)
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)
    return prefect_server
