from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from isp_lifecycle.settings import Settings
from isp_lifecycle.store import Store

from .site import ADMIN, app_for, seed, session_for

NOW = datetime(2026, 11, 27, 12, 0)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def pages_backend(request, tmp_path_factory):
    """The pages' queries (case-folded lookups, tuple IN, JSON array lengths) on both stores."""
    from ..store.conftest import new_backend

    chosen = new_backend(request.param, tmp_path_factory, "pages")
    yield chosen
    chosen.drop_all()


@pytest.fixture
def env(tmp_path, monkeypatch, pages_backend):
    monkeypatch.setenv("ISP_AUDIT_KEY", "pages-test-key")
    monkeypatch.setenv("ISP_HOME", str(tmp_path))
    store = Store.open(pages_backend.new_database())
    ids = seed(store, datetime.utcnow())
    settings = Settings(home=tmp_path, remind_days=7, admins=frozenset({ADMIN}))
    yield store, settings, ids
    store.close()


@pytest.fixture
def client(env):
    store, settings, ids = env
    with TestClient(app_for(store, settings), follow_redirects=False) as c:
        c.ids = ids
        c.store = store
        yield c


def signed_in(client, who):
    """``client`` with a session of ``who``; ``client.csrf`` is the token its forms carry."""
    started = session_for(client.store, who)
    client.cookies.set("isp_session", started.secret)
    client.csrf = started.csrf
    return client
