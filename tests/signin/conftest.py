"""Signing in runs on both stores, like the store suite (SQLite and PostgreSQL at 127.0.0.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.store.conftest import backend, database_url, env, store  # noqa: F401 (fixtures)


class Clock:
    """A clock a test moves by hand: link and session expiry without waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        from isp_lifecycle.services import utcnow

        self.now = start or utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(scope="session")
def web_port():
    from .live import free_port

    return free_port()


@pytest.fixture(scope="session")
def oidc_provider(web_port, tmp_path_factory):
    """The npm package oidc-provider (tests/oidc, installed by `.ci/run`) on 127.0.0.1."""
    import subprocess
    from pathlib import Path

    from .live import free_port

    folder = Path(__file__).resolve().parent.parent / "oidc"
    assert (folder / "node_modules" / "oidc-provider").is_dir(), "run `npm ci` in tests/oidc (.ci/run does)"
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["node", "provider.js", str(port), f"http://127.0.0.1:{web_port}/auth/oidc/callback"],
                                   cwd=folder, stdout=subprocess.PIPE, stderr=out)
    line = process.stdout.readline().decode()
    assert line.startswith("ready "), log.read_text()
    yield line.split()[1]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def make_web(store, env, clock, web_port):
    """Start the web application on this store (``make_web(**settings)``), stopped after the test."""
    from isp_lifecycle.settings import Settings
    from isp_lifecycle.web import create_app

    from .live import LiveApp

    started = []

    def make(**values):
        values.setdefault("web_url_value", f"http://127.0.0.1:{web_port}")
        settings = Settings(home=env / "home", database_url_value=store.engine.url.render_as_string(hide_password=False),
                            **values)
        app = create_app(settings, store)
        app.state.clock = clock
        started.append(LiveApp(app, web_port).start())
        return started[-1]

    yield make
    for live in started:
        live.stop()
