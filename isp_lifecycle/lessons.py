"""The lessons register: what the portfolio's partnerships have learned, in one place.

Two sources, one shape (``Lesson``; ``to_json()`` is the line ``isp lessons --format json``
prints):

- the documents: ``reviews[].lessons`` of each partnership's *current* version. Such a lesson
  carries its review's ``date``, no ``principle``, and is ``shareable`` (the document is the
  partnership's own record, which it shares with whoever reviews it);
- the assessments (``assessment_lessons``): what partners wrote in their self-assessments,
  tagged with a handbook principle or not, shareable beyond the partnership or internal,
  dated the day it was given.

    register(store, mission=, principle=, partnership=)     every lesson: ``isp lessons``
    shareable(store, ...)                                    the shareable ones, and ``people``:
                                                             every name and email the documents write
    for_person(store, settings, identity, ...)               what one signed-in person may read

Ordered by date, then partnership id; within both, the documents' lessons first, as written.
Filters: ``mission`` (matched ignoring case; unknown: ``UsageError`` naming the known ones, the
review's own check), ``principle`` (a slug of the handbook's principles; only lessons tagged
with it, so none from documents), ``partnership`` (unknown: ``UnknownPartnership``).

Who reads what (``for_person``): the people who see a whole mission (admins, its staff, the
directors and delegates deciding there; ``authz``) read every lesson of its partnerships,
internal ones included; anyone else a partnership names (its contacts, leaders) reads only the
shareable lessons of the partnerships that name them.

Documents are read as stored, their digest checked (the guard of ``uow.stored_document``), and
what the register needs of each is kept by (partnership, version, digest): a stored version
never changes, so a portfolio of thousands is parsed once per process; the whole portfolio is
kept per store until a partnership changes (``entries``).
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import assessment_lessons, authz
from .authz import Roles
from .encoding import quote
from .errors import StoreError, UnknownPartnership, UsageError
from .identity import Identity
from .rulepack import PRINCIPLES
from .settings import Settings
from .store import Store
from .store.models import DocumentVersion, PartnershipRow, portfolio_ticks
from .uow import read, sha256_text
from .views import mission_named

DOCUMENT, ASSESSMENT = "document", "assessment"
T = TypeVar("T")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")  # ``model``'s partnership ids
CACHED = 100_000


@dataclass(frozen=True)
class Lesson:
    partnership: str
    mission: str
    date: date
    source: str  # DOCUMENT | ASSESSMENT
    principle: str | None
    text: str
    shareable: bool
    name: str = ""  # the partnership's name (shown on pages; not part of the JSON line)

    def to_json(self) -> dict[str, Any]:
        return {"partnership": self.partnership, "mission": self.mission, "date": self.date.isoformat(),
                "source": self.source, "principle": self.principle, "text": self.text, "shareable": self.shareable}


@dataclass(frozen=True)
class Entry:
    """One partnership's current version, as the register needs it."""

    id: str
    name: str
    mission: str
    roles: Roles
    people: tuple[str, ...]  # every person's name and email the version writes
    lessons: tuple[Lesson, ...]  # from its reviews, as written


def check_principle(slug: str, field: str = "--principle") -> str:
    """``slug`` if it is one of the handbook's principles, else bad input naming them all."""
    if slug in PRINCIPLES:
        return slug
    raise UsageError(f"{field}: {quote(slug)} is not a principle of the handbook; "
                     f"the principles are: {', '.join(PRINCIPLES)}")


def check_partnership(value: str) -> str:
    """An id that could be stored (a slug); anything else is unknown, said with a short quote."""
    if _SLUG.fullmatch(value):
        return value
    raise UsageError(f"--partnership: no partnership {quote(value)} in the store (see `isp list`)")


# ------------------------------------------------------------------ reading the documents

_parsed: dict[tuple[str, int, str], tuple[Roles, tuple[str, ...], tuple[tuple[date, str], ...]]] = {}
_portfolios: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> (stamp, entries)
_lock = threading.Lock()


def _people(data: Mapping[str, Any]) -> tuple[str, ...]:
    named = [data.get("mission_director"), *(data.get("delegates") or []), *(data.get("leaders") or [])]
    for partner in data.get("partners") or []:
        if isinstance(partner, Mapping):
            named += partner.get("contacts") or []
    found = []
    for person in named:
        if isinstance(person, Mapping):
            found += [v for k in ("name", "email") if isinstance(v := person.get(k), str) and v.strip()]
    return tuple(found)


def _document_lessons(data: Mapping[str, Any]) -> tuple[Lesson, ...]:
    pid, mission, name = data.get("id", ""), data.get("mission", ""), data.get("name", "")
    out = []
    for review in data.get("reviews") or []:
        if isinstance(review, Mapping) and isinstance(review.get("date"), str):
            day = date.fromisoformat(review["date"])
            out += [Lesson(pid, mission, day, DOCUMENT, None, text, True, name)
                    for text in review.get("lessons") or [] if isinstance(text, str) and text.strip()]
    return tuple(out)


def _parse(pid: str, version: int, document: str, digest: str):
    if sha256_text(document) != digest:
        raise StoreError(f"{pid} version {version} no longer matches the digest recorded when it was written: "
                         "the store was changed outside isp; run `isp audit verify`")
    data = json.loads(document)
    return Roles.of(data), _people(data), _document_lessons(data)


def entries(session: Session, partnership: str | None = None) -> list[Entry]:
    """Every partnership (or the one named), id order, with what its current version says.

    The whole portfolio is kept per store until a partnership row is written (the store's
    portfolio clock moves): a page view then costs one read of one row. Callers must not
    change the list."""
    if partnership is not None:
        return _read_entries(session, partnership)
    engine = session.get_bind()
    stamp = portfolio_ticks(session)
    with _lock:
        kept = _portfolios.get(engine)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    found = _read_entries(session, None)
    with _lock:
        _portfolios[engine] = (stamp, found)
    return found


def _read_entries(session: Session, partnership: str | None) -> list[Entry]:
    query = (select(PartnershipRow.id, PartnershipRow.name, PartnershipRow.mission, PartnershipRow.current_version,
                    DocumentVersion.sha256)
             .join(DocumentVersion, (DocumentVersion.partnership_id == PartnershipRow.id)
                   & (DocumentVersion.version == PartnershipRow.current_version)))
    if partnership is not None:
        query = query.where(PartnershipRow.id == partnership)
    rows = session.execute(query.order_by(PartnershipRow.id)).all()
    keys = [(r.id, r.current_version, r.sha256) for r in rows]  # the digest: the same key is the same text
    with _lock:
        known = {key: _parsed[key] for key in keys if key in _parsed}
    missing = [key for key in keys if key not in known]
    for start in range(0, len(missing), 500):
        chunk = {pid: (version, digest) for pid, version, digest in missing[start:start + 500]}
        stored = session.execute(
            select(DocumentVersion.partnership_id, DocumentVersion.version, DocumentVersion.document)
            .where(DocumentVersion.partnership_id.in_(chunk),
                   DocumentVersion.version.in_({version for version, _ in chunk.values()}))).all()
        for pid, version, document in stored:
            if chunk[pid][0] == version:
                known[(pid, version, chunk[pid][1])] = _parse(pid, version, document, chunk[pid][1])
    with _lock:
        if len(_parsed) > CACHED:
            _parsed.clear()
        _parsed.update(known)
    return [Entry(r.id, r.name, r.mission, *known[key]) for r, key in zip(rows, keys)]


def _reading(store: Store, reads: Callable[[], Session] | None, work: Callable[[Session], T]) -> T:
    """``work`` in a session of ``reads`` (the web service's reading sessions), else the store's."""
    if reads is None:
        return read(store, work)
    with reads() as session:
        return work(session)


# ------------------------------------------------------------------ gathering

def _gather(session: Session, chosen: list[Entry], *, mission: str | None, principle: str | None,
            partnership: str | None) -> list[Lesson]:
    """The lessons of ``chosen`` from both sources, ordered."""
    by_id = {e.id: e for e in chosen}
    found = [] if principle else [lesson for e in chosen for lesson in e.lessons]
    for given in assessment_lessons.lessons(session, mission=mission, principle=principle, partnership=partnership):
        entry = by_id.get(given["partnership"])
        if entry is None or (principle and given.get("principle") != principle):
            continue
        day = given["date"]  # a date; a moment counts as its day (datetime and date do not compare)
        found.append(Lesson(entry.id, entry.mission, day.date() if isinstance(day, datetime) else day, ASSESSMENT,
                            given.get("principle"), given["text"], bool(given["shareable"]), entry.name))
    found.sort(key=lambda lesson: (lesson.date, lesson.partnership, lesson.source != DOCUMENT))
    return found


def register(store: Store, *, mission: str | None = None, principle: str | None = None,
             partnership: str | None = None) -> list[Lesson]:
    """Every lesson of the portfolio (within the filters), ordered by date, then partnership."""
    mission = mission and mission_named(store, mission)
    principle = principle and check_principle(principle)
    partnership = partnership and check_partnership(partnership)

    def work(session: Session) -> list[Lesson]:
        chosen = [e for e in entries(session, partnership) if mission is None or e.mission == mission]
        if partnership is not None and session.get(PartnershipRow, partnership) is None:
            raise UnknownPartnership(partnership)
        return _gather(session, chosen, mission=mission, principle=principle, partnership=partnership)

    return read(store, work)


def shareable(store: Store, *, mission: str | None = None, principle: str | None = None,
              partnership: str | None = None) -> tuple[list[Lesson], list[str]]:
    """The shareable lessons, and every name and email the portfolio's documents write (so
    that a brief can withhold them wherever a lesson repeats one)."""
    found = register(store, mission=mission, principle=principle, partnership=partnership)
    found = [lesson for lesson in found if lesson.shareable]
    return (found, people(store)) if found else ([], [])


def people(store: Store, reads: Callable[[], Session] | None = None) -> list[str]:
    """Every name and email the current documents of the portfolio give a person."""
    def work(session: Session) -> list[str]:
        return [person for e in entries(session) for person in e.people]

    return _reading(store, reads, work)


# ------------------------------------------------------------------ one person's view

@dataclass(frozen=True)
class Seen:
    """What one person may read: ``lessons`` (within the filters), the ``missions`` they read
    lessons of (none: the register is not for them), and whether they read only shareable ones."""

    lessons: list[Lesson]
    missions: list[str]
    shareable_only: bool


def _sight(who: authz.Caller, entry: Entry) -> str | None:
    """``all``, ``shareable`` or ``None``: how much of ``entry``'s lessons the caller reads."""
    if who.admin or entry.roles.mission in who.staff_of or entry.roles.mission in who.decides_in:
        return "all"
    return "shareable" if entry.roles.names(who.email) else None


def _mission_among(name: str, known: Iterable[str]) -> str:
    for mission in known:
        if mission.casefold() == name.strip().casefold():
            return mission
    listed = ", ".join(known) or "none"
    raise UsageError(f"mission: you read no lessons of a mission {quote(name)}; yours: {listed}")


def for_person(store: Store, settings: Settings, identity: Identity, *, mission: str | None = None,
               principle: str | None = None, partnership: str | None = None,
               reads: Callable[[], Session] | None = None) -> Seen:
    """The lessons ``identity`` may read. A mission they read nothing of is bad input naming
    theirs only; a partnership they may not see is ``UnknownPartnership`` (not disclosed).
    ``reads``: sessions for reading (the web service's ``Access.reads``, which on SQLite never
    queue behind a writer); default, the store's own."""
    principle = principle and check_principle(principle, "principle")

    def work(session: Session) -> Seen:
        every = entries(session)
        who = authz.caller(identity, settings, (e.roles for e in every))
        sight = {e.id: s for e in every if (s := _sight(who, e))}
        mine = [e for e in every if e.id in sight]
        missions = sorted({e.mission for e in mine}, key=str.casefold)
        wanted = mission and _mission_among(mission, missions)
        if partnership is not None and partnership not in sight:
            raise UnknownPartnership(partnership)
        chosen = [e for e in mine if (not wanted or e.mission == wanted)
                  and (partnership is None or e.id == partnership)]
        found = _gather(session, chosen, mission=wanted, principle=principle, partnership=partnership)
        return Seen([lesson for lesson in found if lesson.shareable or sight[lesson.partnership] == "all"],
                    missions, bool(sight) and "all" not in sight.values())

    return _reading(store, reads, work)
