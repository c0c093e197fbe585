"""The review suite runs on both store backends, with the store suite's fixtures."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from isp_lifecycle.document import load, validate
from isp_lifecycle.store.models import Notification

from ..conftest import FIXTURES
from ..store.conftest import backend, database_url, dump, env, store  # noqa: F401  (fixtures)

AS_OF = date(2027, 9, 1)


def fixture_data(name: str = "gh-mnh-north") -> dict:
    return load(FIXTURES / f"{name}.yaml").to_data()


def variant(fixture: str = "gh-mnh-north", /, **changes):
    """A fixture document with top-level fields changed (``id`` gives it a new identity)."""
    data = fixture_data(fixture)
    data.update(changes)
    return validate(data)


def outbox(store, event: str | None = None) -> list[tuple]:
    query = select(Notification.event, Notification.recipient, Notification.idempotency_key).order_by(Notification.id)
    if event:
        query = query.where(Notification.event == event)
    with store.sessions.begin() as session:
        return [tuple(r) for r in session.execute(query)]


def fixed_clock(moment: datetime = datetime(2027, 9, 1, 8, 0)):
    return lambda: moment


@pytest.fixture
def count_rows():
    def count(store, model) -> int:
        with store.sessions.begin() as session:
            return session.scalar(select(func.count()).select_from(model))

    return count


def fail_on(monkeypatch, partnership_id: str, error: Exception):
    """Make the review fail on one partnership (its chunk then fails); returns the undo."""
    from isp_lifecycle import health

    real = health.assess

    def failing(doc, *args, **kwargs):
        if doc.id == partnership_id:
            raise error
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(health, "assess", failing)
    return lambda: monkeypatch.setattr(health, "assess", real)
