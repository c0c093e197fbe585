"""A store with partnerships at each point a decision page can show, and the pages' app over it.

Signing in is the real thing: a session in the store, its cookie, its CSRF token.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from isp_lifecycle import approvals, services
from isp_lifecycle.document import load, validate
from isp_lifecycle.settings import Settings
from isp_lifecycle.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADER = "ama@ghs.example.org"
CONTACT = "yaw@ghs.example.org"
OUTSIDER = "someone@elsewhere.example.org"
OTHER_DIRECTOR = "director@kenya.example.org"
ADMIN = "admin@mission.example.org"
HOSTILE_NAME = '<script>document.title="owned"</script> Tamale & <b>Co</b>'


@contextmanager
def own_home(tmp_path_factory, name: str, *, outbox: bool = False,
             **settings: str) -> Iterator[tuple[Path, Store, pytest.MonkeyPatch]]:
    """A browser module's own ``ISP_HOME`` with a SQLite store in it: (home, store, the
    environment's patch, to set more while it lasts). ``ISP_AUDIT_KEY`` and ``ISP_HOME`` are set,
    ``ISP_DATABASE_URL`` unset (the home's store is the store); ``outbox`` sends messages to
    ``home/outbox``; ``settings`` are further ``ISP_*`` variables. All undone at the end."""
    home = tmp_path_factory.mktemp(f"{name}-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ISP_AUDIT_KEY", f"{name}-browser-key")
        env.setenv("ISP_HOME", str(home))
        env.delenv("ISP_DATABASE_URL", raising=False)
        if outbox:
            env.setenv("ISP_OUTBOX_DIR", str(home / "outbox"))
            env.setenv("ISP_CHANNELS", "outbox")
        for key, value in settings.items():
            env.setenv(key, value)
        store = Store.open(f"sqlite:///{home / 'isp.db'}")
        try:
            yield home, store, env
        finally:
            store.close()


def healthy(**changes):
    doc = load(FIXTURES / "healthy-convene.yaml").to_data()
    doc.update(changes)
    return validate(copy.deepcopy(doc), changes.get("id", "healthy"))


def clock_at(moment: datetime):
    return lambda: moment


def seed(store: Store, now: datetime) -> dict[str, int]:
    """Three requests (fresh, old enough to be reminded, stale), one of a hostile name, and one
    partnership of another mission; returns their request ids by name."""
    ids = {}
    for pid, name, age in (("tamale-health", "Tamale Maternal Health Partnership", 1),
                           ("tamale-old", "Tamale Water Partnership", 9),
                           ("tamale-stale", "Tamale Schools Partnership", 2),
                           ("tamale-hostile", HOSTILE_NAME, 0)):
        when = now - timedelta(days=age, hours=1)
        services.import_document(store, healthy(id=pid, name=name), actor=LEADER, clock=clock_at(when))
        opened = approvals.open_request(store, pid, requested_by=LEADER, as_of=when.date(), clock=clock_at(when))
        assert not opened.blocked, opened.verdict
        ids[pid] = opened.request_id
    changed = healthy(id="tamale-stale", name="Tamale Schools Partnership", local_context="Changed after the request.")
    services.import_document(store, changed, actor=LEADER, clock=clock_at(now - timedelta(days=1)))
    kenya = healthy(id="kisumu-water", name="Kisumu Water", mission="USAID/Kenya",
                    mission_director={"name": "Otieno", "email": OTHER_DIRECTOR}, delegates=[])
    services.import_document(store, kenya, actor=OTHER_DIRECTOR)
    return ids


def app_for(store: Store, settings: Settings) -> FastAPI:
    """The service's own app (its guard, its API, sign-in, the pages) and one test-only page."""
    from isp_lifecycle.web import create_app

    app = create_app(settings, store)

    @app.get("/test-inline-script", response_class=HTMLResponse)
    def inline_script():
        return ('<!doctype html><html lang="en"><head><title>inline</title></head><body><main><h1>Inline</h1>'
                '<script>document.title = "ran"</script></main></body></html>')

    return app


def session_for(store: Store, email: str):
    """A signed-in session, as the sign-in link would make it (its limits are tested with it)."""
    from isp_lifecycle import sessions

    return sessions.sign_in_verified(store, email, "email-link", client="127.0.0.1")


class Served:
    """The service's app over ``store`` on 127.0.0.1 (uvicorn in a thread), for a real browser."""

    def __init__(self, store: Store, settings: Settings) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        settings = replace(settings, web_url_value=self.url)
        self.server = uvicorn.Server(uvicorn.Config(app_for(store, settings), host="127.0.0.1", port=port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the pages' test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


PAVED = "Roads to the clinics are now paved."


def request_on_a_second_version(store: Store, pid: str, name: str, now: datetime) -> int:
    """A partnership imported, then changed (one contact fewer, a new local context), then asked
    to move: its decision page has an advisory finding with the handbook's words, and a diff."""
    services.import_document(store, healthy(id=pid, name=name), actor=LEADER, clock=clock_at(now - timedelta(days=3)))
    data = healthy(id=pid, name=name, local_context=PAVED).to_data()
    data["partners"][0]["contacts"] = data["partners"][0]["contacts"][:1]
    services.import_document(store, validate(data, pid), actor=LEADER, clock=clock_at(now - timedelta(days=2)))
    return approvals.open_request(store, pid, requested_by=LEADER, clock=clock_at(now - timedelta(days=2))).request_id


def blocked(pid: str, name: str):
    """A convening partnership whose gate blocks: its business partner is filed as civil society."""
    data = healthy(id=pid, name=name).to_data()
    data["partners"][1]["sector"] = "civil_society"
    return validate(data, pid)
