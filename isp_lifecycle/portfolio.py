"""What each caller sees, found fast: the portfolio's roles indexed by person and mission.

``Portfolio`` is a snapshot of every partnership with the roles of its current version;
``Snapshots`` keeps the service's current one and, when a partnership changed, reads again
only the rows that changed (a decision moves one stage: it must not cost a re-read of ten
thousand). ``reader`` gives sessions for reading that never queue behind SQLite's writer lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from . import authz
from .authz import Caller, Roles
from .identity import Identity
from .settings import Settings
from .store import Store
from .store.models import PartnershipRow, portfolio_changed_since, portfolio_ticks

# The columns a snapshot keeps of each partnership (what listings show and authz needs).
COLUMNS = (PartnershipRow.id, PartnershipRow.name, PartnershipRow.mission, PartnershipRow.stage,
           PartnershipRow.stage_entered, PartnershipRow.current_version)
BATCH = 500  # ids per lookup: far below every database's parameter limit
RolesOf = Callable[[Session, list[tuple[str, int]]], dict[tuple[str, int], Roles]]


def reader(store: Store) -> sessionmaker:
    """Sessions for reading. On SQLite, the store's own sessions begin every transaction with
    ``BEGIN IMMEDIATE`` (right for writers, which would otherwise deadlock on upgrade), which
    would also queue every read of the service behind one lock: reads get an engine of their
    own whose reads take no lock (WAL readers never block the writer nor each other). On
    PostgreSQL, reads run in autocommit: under READ COMMITTED each statement sees the latest
    commits either way, and a read then costs no BEGIN and ROLLBACK round trips."""
    if store.engine.url.get_backend_name() != "sqlite":
        return sessionmaker(store.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
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

    def __init__(self, key: int, rows: list[tuple[Any, Roles]], settings: Settings, generation: int = 0) -> None:
        self.key, self.rows, self.settings = key, rows, settings
        self.generation = generation  # which whole read of the store this is (``Snapshots``)
        self.by_person: dict[str, list[int]] = {}
        self.by_mission: dict[str, list[int]] = {}
        for n, (_, roles) in enumerate(rows):
            self.by_mission.setdefault(roles.mission, []).append(n)
            for email in roles.deciders | roles.leaders | roles.contacts:
                self.by_person.setdefault(email, []).append(n)
        self.positions = {row.id: n for n, (row, _) in enumerate(rows)}
        # Which partnerships were written since this snapshot was read whole (``since``), and
        # the tick that logged each: what ``Details`` asks before trusting what it kept.
        self.since, self.changed = key, {}
        self._callers: dict[Identity, Caller] = {}
        self._visible: dict[Identity, list[int]] = {}
        self._summaries: dict[str, tuple[Any, dict[str, Any]]] = {}

    def patched(self, key: int, changed: dict[int, tuple[Any, Roles]]) -> Portfolio:
        """This snapshot with the rows at the given positions replaced by rows whose roles are
        the same: the indexes (positions by person and mission) and the callers still hold."""
        rows = list(self.rows)
        for n, pair in changed.items():
            rows[n] = pair
        new = object.__new__(Portfolio)
        new.key, new.rows, new.settings = key, rows, self.settings
        new.by_person, new.by_mission, new.positions = self.by_person, self.by_mission, self.positions
        new.since, new.changed = self.since, {**self.changed, **{rows[n][0].id: key for n in changed}}
        new.generation = self.generation
        # the same roles at the same positions: who sees which positions holds too
        new._callers, new._visible, new._summaries = dict(self._callers), self._visible, self._summaries
        return new

    def summary(self, row: Any) -> dict[str, Any]:
        """The row as listings show it, built once per row read (its attributes are slow to
        reach: building it each time was most of a listing's time). Not to be changed."""
        found = self._summaries.get(row.id)
        if found is None or found[0] is not row:
            found = self._summaries[row.id] = (row, {"id": row.id, "name": row.name, "mission": row.mission,
                                                     "stage": row.stage,
                                                     "stage_entered": row.stage_entered.isoformat()})
        return found[1]

    def find(self, partnership_id: str) -> tuple[Any, Roles] | None:
        n = self.positions.get(partnership_id)
        return None if n is None else self.rows[n]

    def fresh(self, partnership_id: str, tick: int) -> bool:
        """Whether what was read of the partnership at ``tick`` (or later) is still current."""
        return tick >= self.changed.get(partnership_id, self.since)

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
            found = self._visible_positions(identity)
            if len(self._visible) < 1_000:
                self._visible[identity] = found
        return [self.rows[n] for n in found]

    def _visible_positions(self, identity: Identity) -> list[int]:
        who = self.caller(identity)
        if who.admin:
            candidates = range(len(self.rows))
        else:
            indexes = set(self.by_person.get(who.email, ()))
            for mission in who.staff_of | who.decides_in:
                indexes.update(self.by_mission.get(mission, ()))
            candidates = sorted(indexes)
        return [n for n in candidates if authz.sees(who, self.rows[n][1])]


class Snapshots:
    """The service's current ``Portfolio``, one per process, safe to share between threads.

    Every write to a partnership row moves the store's portfolio clock and logs which row it
    wrote (triggers do it: ``store.models.portfolio_clock``); each read compares the clock (one
    row) with the snapshot's. When it moved, one thread (the others wait) reads the log since
    the snapshot's tick, and the full columns of the rows it names only."""

    def __init__(self, settings: Settings, roles_of: RolesOf) -> None:
        self.settings, self.roles_of = settings, roles_of
        self._current: Portfolio | None = None
        self._refreshing = threading.Lock()
        # Whole reads of the store so far. What is kept against the clock's ticks holds only
        # within one: a clock that went back (a backup restored) gives old ticks new meanings.
        self.generation = 0

    def at(self, tick: int) -> Portfolio | None:
        """The snapshot, if it is the one of clock ``tick`` (read by the caller just now): then
        no session is needed. (Not a later one: a clock behind the snapshot may be a store
        emptied and made again, which only ``current`` tells apart.)"""
        found = self._current
        return found if found is not None and found.key == tick else None

    def current(self, session: Session) -> Portfolio:
        key = portfolio_ticks(session)
        found = self._current
        if found is not None and found.key == key:
            return found
        with self._refreshing:
            found = self._current
            if found is not None and key < found.key:
                # Read again: another thread may have refreshed past the tick read before the
                # lock, and a snapshot newer than that tick serves this read as well. (Going
                # by the stale tick read everything again, and stepped the snapshot back.)
                key = portfolio_ticks(session)
            if found is None or found.key != key:
                found = self._current = self._refresh(session, key)
            return found

    def _refresh(self, session: Session, key: int) -> Portfolio:
        """The portfolio as of clock ``key`` or later (reads that follow see every commit up to
        it): the old one with the rows the clock's log names read again, or, when the log no
        longer reaches back to the old one (or much changed, or the store is another), all."""
        old = self._current
        if old is not None and key > old.key:
            first, changed = portfolio_changed_since(session, old.key)
            if first == old.key + 1 and len(changed) <= len(old.rows) // 4:
                return self._patch(session, key, old, sorted(changed))
        return self._rebuild(key, self._rows(session, None))

    def _rows(self, session: Session, ids: list[str] | None) -> list[tuple[Any, Roles]]:
        """(row, roles) of the partnerships ``ids`` (all when ``None``), in id order as Python
        compares ids (as paging does, whatever the database's collation)."""
        rows = []
        for start in range(0, 1 if ids is None else len(ids), BATCH):
            query = select(*COLUMNS)
            if ids is not None:
                query = query.where(PartnershipRow.id.in_(ids[start:start + BATCH]))
            rows += session.connection().execute(query).all()
        rows.sort(key=lambda r: r.id)
        roles = self.roles_of(session, [(r.id, r.current_version) for r in rows])
        return [(r, roles[(r.id, r.current_version)]) for r in rows]

    def _rebuild(self, key: int, rows: list[tuple[Any, Roles]]) -> Portfolio:
        self.generation += 1
        return Portfolio(key, rows, self.settings, self.generation)

    def _patch(self, session: Session, key: int, old: Portfolio, changed: list[str]) -> Portfolio:
        fresh, positions = self._rows(session, changed), old.positions
        if len(fresh) < len(changed) and any(pid in positions for pid in set(changed) - {r.id for r, _ in fresh}):
            return self._rebuild(key, self._rows(session, None))  # a partnership removed (a restore): rare
        if any(row.id not in positions for row, _ in fresh):  # a new partnership: positions move
            merged = {row.id: (row, roles) for row, roles in old.rows}
            merged.update((row.id, (row, roles)) for row, roles in fresh)
            return self._rebuild(key, [merged[pid] for pid in sorted(merged)])
        moved = {positions[row.id]: (row, roles) for row, roles in fresh}
        if any(old.rows[n][1] != roles for n, (_, roles) in moved.items()):  # who is who changed
            rows = list(old.rows)
            for n, pair in moved.items():
                rows[n] = pair
            return self._rebuild(key, rows)
        return old.patched(key, moved)


class Details:
    """What reads show of a partnership beyond its row (its pending requests, its latest
    verdict), kept per partnership and trusted while the portfolio's clock has logged no write
    of that partnership since it was read (``Portfolio.fresh``). Triggers log every write of
    its requests and evaluations as a write of the partnership (migration 0009), whoever
    writes, so the log names it whenever what is kept here changes."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._found: dict[str, tuple[int, int, Any]] = {}  # id: (generation, tick, details)

    def get(self, portfolio: Portfolio, ids: list[str], load: Callable[[list[str]], dict[str, Any]] | None,
            also: Callable[[], list[str]] | None = None) -> dict[str, Any] | None:
        """Each id's details: kept ones still fresh, the others from ``load`` (read after
        ``portfolio`` was). Without ``load`` (memory only), ``None`` if any must be read.
        ``also``: ids worth reading in the same query when some must be (a caller's others)."""
        found, missing = {}, []
        generation, changed, since = portfolio.generation, portfolio.changed, portfolio.since
        for pid in ids:  # ``_holds``, unrolled: this runs for every row of every listing
            kept = self._found.get(pid)
            if kept is not None and kept[0] == generation and kept[1] >= changed.get(pid, since):
                found[pid] = kept[2]
            else:
                missing.append(pid)
        if missing:
            if load is None:
                return None
            if also is not None:
                missing += [pid for pid in dict.fromkeys(also())
                            if pid not in found and pid not in missing and not self._holds(portfolio, pid)]
            loaded = load(missing)
            if len(self._found) + len(missing) > self.LIMIT:
                self._found.clear()
            for pid in missing:
                self._found[pid] = (portfolio.generation, portfolio.key, loaded[pid])
            found.update((pid, loaded[pid]) for pid in ids if pid not in found)
        return found

    def _holds(self, portfolio: Portfolio, partnership_id: str) -> bool:
        kept = self._found.get(partnership_id)
        return kept is not None and kept[0] == portfolio.generation and portfolio.fresh(partnership_id, kept[1])
