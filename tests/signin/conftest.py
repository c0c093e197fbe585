"""Signing in runs on both stores, like the store suite (SQLite and PostgreSQL at 127.0.0.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.store.conftest import backend, database_url, env, store  # noqa: F401 (fixtures)


class Clock:
    """A clock a test moves by hand: link and session expiry without waiting."""

    def __init__(self, start: datetime = datetime(2026, 12, 1, 9, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()
