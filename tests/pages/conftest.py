from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from isp_lifecycle.settings import Settings
from isp_lifecycle.store import Store

from .site import ADMIN, app_for, seed, session_for

NOW = datetime(2026, 11, 27, 12, 0)
AUDIT_KEY = "pages-test-key"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def pages_backend(request, tmp_path_factory):
    """The pages' queries (case-folded lookups, tuple IN, JSON array lengths) on both stores."""
    from ..store.conftest import new_backend

    chosen = new_backend(request.param, tmp_path_factory, "pages")
    yield chosen
    chosen.drop_all()


@pytest.fixture(scope="session")
def seeded(pages_backend, tmp_path_factory):
    """A database migrated and seeded once per backend; each test opens its own copy of it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ISP_AUDIT_KEY", AUDIT_KEY)
        patch.setenv("ISP_HOME", str(tmp_path_factory.mktemp("pages-seed")))
        url = pages_backend.new_database()
        store = Store.open(url)
        ids = seed(store, datetime.utcnow())
        store.close()
    return url, ids


@pytest.fixture
def env(tmp_path, monkeypatch, pages_backend, seeded):
    monkeypatch.setenv("ISP_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("ISP_HOME", str(tmp_path))
    template, ids = seeded
    store = Store.open(pages_backend.copy_of(template))
    settings = Settings(home=tmp_path, remind_days=7, admins=frozenset({ADMIN}))
    yield store, settings, dict(ids)
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
