import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Keep the rule-pack cache of test runs out of the user's home.
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / ".pytest_cache" / "xdg"))


@pytest.fixture(scope="session")
def pack():
    from isp_lifecycle.rulepack import load_pack

    return load_pack()


@pytest.fixture(scope="session")
def base_and_cases(pack):
    from isp_lifecycle.cases import load_cases

    return load_cases(pack.root, pack)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on 127.0.0.1, started once per test session."""
    from .prefect_server import PrefectServer

    home = tmp_path_factory.mktemp("prefect-home")
    server = PrefectServer(home).start()
    yield server
    server.stop()


@pytest.fixture
def prefect_api(prefect_server, monkeypatch):
    """Point this test (and its subprocesses) at the session's Prefect server."""
    from .prefect_server import QUIET

    monkeypatch.setenv("PREFECT_API_URL", prefect_server.url)
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)
    return prefect_server
