"""What each caller sees, found fast: the portfolio's roles indexed by person and mission.

``Portfolio`` is a snapshot of every partnership with the roles of its current version; the
service keeps one and reads the store again only when a partnership changed. ``reader``
gives sessions for reading that never queue behind SQLite's writer lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from . import authz
from .authz import Caller, Roles
from .identity import Identity
from .settings import Settings
from .store import Store


def reader(store: Store) -> sessionmaker:
    """Sessions for reading. On SQLite, the store's own sessions begin every transaction with
    ``BEGIN IMMEDIATE`` (right for writers, which would otherwise deadlock on upgrade), which
    would also queue every read of the service behind one lock: reads get an engine of their
    own whose reads take no lock (WAL readers never block the writer nor each other)."""
    if store.engine.url.get_backend_name() != "sqlite":
        return store.sessions
    engine = create_engine(store.engine.url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    return sessionmaker(engine, expire_on_commit=False)


class Portfolio:
    """Every partnership (id order) with the roles of its current version, as of ``key``, and
    an index from people and missions to them, so that what a caller sees is found in the
    time of what they see, not of the whole portfolio. ``authz.sees`` still decides each one."""

    def __init__(self, key: tuple, rows: list[tuple[Any, Roles]], settings: Settings) -> None:
        self.key, self.rows, self.settings = key, rows, settings
        self.by_person: dict[str, list[int]] = {}
        self.by_mission: dict[str, list[int]] = {}
        for n, (_, roles) in enumerate(rows):
            self.by_mission.setdefault(roles.mission, []).append(n)
            for email in roles.deciders | roles.leaders | roles.contacts:
                self.by_person.setdefault(email, []).append(n)
        self._callers: dict[Identity, Caller] = {}
        self._visible: dict[Identity, list[tuple[Any, Roles]]] = {}

    def caller(self, identity: Identity) -> Caller:
        found = self._callers.get(identity)
        if found is None:
            own = (self.rows[n][1] for n in self.by_person.get(identity.email.casefold(), ()))
            found = authz.caller(identity, self.settings, own)
            if len(self._callers) < 10_000:
                self._callers[identity] = found
        return found

    def visible(self, identity: Identity) -> list[tuple[Any, Roles]]:
        """What the caller may see, in id order."""
        found = self._visible.get(identity)
        if found is None:
            who = self.caller(identity)
            if who.admin:
                candidates = range(len(self.rows))
            else:
                indexes = set(self.by_person.get(who.email, ()))
                for mission in who.staff_of | who.decides_in:
                    indexes.update(self.by_mission.get(mission, ()))
                candidates = sorted(indexes)
            found = [self.rows[n] for n in candidates if authz.sees(who, self.rows[n][1])]
            if len(self._visible) < 1_000:
                self._visible[identity] = found
        return found
