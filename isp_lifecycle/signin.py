"""Signing in by single-use email link: who may ask, the limits, the link itself.

Contract: ``docs/spec/api.md``, "Signing in". Frozen numbers:

    a link lives 15 minutes and signs in once
    5 link requests per email and 100 per client address in any 15 minutes (429 past that)

``request_link`` answers the same whether or not the email may sign in (the caller shows one
page either way); only people the record knows get a message. The link's secret is returned
to the caller once, to be put into that message; the store keeps its SHA-256 only, so a copy
of the database, or of the outbox table, signs nobody in.

Rate-limit counters are rows in the store (``RateEvent``): every copy of ``isp web`` on one
store shares them, and counting the rows of the last 15 minutes honours "in any 15 minutes"
exactly (fixed windows would let 10 through across a boundary). Requests for one key are
serialised (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL),
so two copies cannot both count 4 and both send a 5th and a 6th.

Time comes from a ``clock`` parameter (tests move it); it is never a user setting.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select, text, update

from .errors import IspError
from .services import utcnow
from .settings import Settings
from .store import Store
from .store.models import DocumentVersion, LoginLink, PartnershipRow, RateEvent, portfolio_ticks

Clock = Callable[[], datetime]

LINK_LIFETIME = timedelta(minutes=15)
# 192 random bits: 32 characters, so that the link (``…/auth/link?t=SECRET``) stays within the
# 78 characters of a mail line for a web address of up to 33, and the text part is sent as
# plain 7-bit lines a person, or a test, can read the link from as it is.
LINK_BYTES = 24
LIMIT_WINDOW = timedelta(minutes=15)
PER_EMAIL = 5
PER_CLIENT = 100
MAX_EMAIL = 320


class RateLimited(IspError):
    """Too many requests for one key in the window: HTTP 429."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many sign-in requests; try again in {max(retry_after // 60, 1)} minute(s)")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normal_email(raw: str) -> str | None:
    """The email as typed, trimmed; ``None`` when it cannot be an address (no exception: the
    sign-in page answers the same for anything typed)."""
    email = (raw or "").strip()
    if not email or len(email) > MAX_EMAIL or any(c.isspace() for c in email) or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    return email if local and "." in domain.strip(".") else None


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only (``/x``), never ``//host``,
    ``/\\host`` or a full URL; anything else is ``/``."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 2000:
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in path):
        return "/"
    return path


# ------------------------------------------------------------------ who may sign in

def _people(document: dict) -> dict[str, str]:
    """Everyone ``document`` names director, delegate, leader or partner contact: case-folded
    address → the address as the document writes it (the first spelling wins)."""
    people = [document.get("mission_director") or {}, *(document.get("delegates") or []),
              *(document.get("leaders") or [])]
    people += [c for partner in document.get("partners") or [] for c in partner.get("contacts") or []]
    named: dict[str, str] = {}
    for person in people:
        email = person.get("email") if isinstance(person, dict) else None
        if isinstance(email, str):
            named.setdefault(email.casefold(), email)
    return named


class Directory:
    """Who the current documents name, kept per process and per store.

    Every lookup first reads the store's portfolio clock (one row, moved by every write to a
    partnership); only when it moved does it read the current version numbers and then the
    documents whose version changed. So a link request on a 10,000-partnership store reads no
    document text unless something changed, and a change made by another copy of ``isp web``
    is seen at once. Versions only grow and the current one is the latest, so comparing
    numbers is exact."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.people: dict[str, dict[str, str]] = {}
        self.index: dict[str, set[str]] = {}  # case-folded address → partnerships naming it
        self.mark: int | None = None
        self.lock = threading.Lock()

    def _set(self, partnership_id: str, version: int, named: dict[str, str]) -> None:
        for folded in self.people.get(partnership_id, {}):
            self.index.get(folded, set()).discard(partnership_id)
        self.people[partnership_id], self.versions[partnership_id] = named, version
        for folded in named:
            self.index.setdefault(folded, set()).add(partnership_id)

    def refresh(self, session) -> None:
        mark = portfolio_ticks(session)
        if mark == self.mark:
            return
        current = dict(session.execute(select(PartnershipRow.id, PartnershipRow.current_version)).all())
        stale = sorted(pid for pid, version in current.items() if self.versions.get(pid) != version)
        for start in range(0, len(stale), 500):
            chunk = stale[start:start + 500]
            rows = session.execute(select(DocumentVersion.partnership_id, DocumentVersion.version,
                                          DocumentVersion.document)
                                   .where(DocumentVersion.partnership_id.in_(chunk),
                                          DocumentVersion.version.in_({current[p] for p in chunk}))).all()
            for pid, version, document in rows:
                if current[pid] == version:
                    self._set(pid, version, _people(json.loads(document)))
        self.mark = mark

    def spelled(self, store: Store, email: str) -> str | None:
        with self.lock, store.sessions() as session:
            self.refresh(session)
            folded = email.casefold()
            holders = sorted(self.index.get(folded, ()))
            return self.people[holders[0]][folded] if holders else None


_directories: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_directories_lock = threading.Lock()


def directory(store: Store) -> Directory:
    with _directories_lock:
        found = _directories.get(store)
        if found is None:
            found = _directories[store] = Directory()
        return found


def known_as(store: Store, settings: Settings, email: str) -> str | None:
    """Who ``email`` is to this service, as the record spells it, or ``None`` if they may not
    sign in: anyone named director, delegate, leader or partner contact in the current version
    of a document (the document's spelling), then admins and mission staff (as typed)."""
    written = directory(store).spelled(store, email)
    if written is not None:
        return written
    who = email.casefold()
    return email if settings.is_admin(who) or settings.staff_missions(who) else None


def may_sign_in(store: Store, settings: Settings, email: str) -> bool:
    return known_as(store, settings, email) is not None


# ------------------------------------------------------------------ limits

def _serialise(session, key: str) -> None:
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def count(session, key: str, limit: int, now: datetime) -> None:
    """Count one request under ``key`` in the caller's transaction, or raise ``RateLimited``
    when ``limit`` were already counted in the last 15 minutes (the refused one is not)."""
    _serialise(session, key)
    since = now - LIMIT_WINDOW
    session.execute(delete(RateEvent).where(RateEvent.key == key, RateEvent.at <= since))
    times = session.scalars(select(RateEvent.at).where(RateEvent.key == key).order_by(RateEvent.at)).all()
    if len(times) >= limit:
        oldest = times[len(times) - limit]
        raise RateLimited(int((oldest + LIMIT_WINDOW - now).total_seconds()) + 1)
    session.add(RateEvent(key=key, at=now))


def reset_limits(store: Store) -> None:
    """Forget every counted request (tests, and an operator unblocking people)."""
    with store.sessions.begin() as session:
        session.execute(delete(RateEvent))


# ------------------------------------------------------------------ links

@dataclass(frozen=True)
class Requested:
    """What ``request_link`` did: ``secret`` is set only when a message must be sent."""

    email: str | None
    secret: str | None = None
    expires: datetime | None = None


def request_link(store: Store, settings: Settings, raw_email: str, *, client: str | None,
                 next_path: str | None = None, clock: Clock = utcnow) -> Requested:
    """Count the request against both limits (raising ``RateLimited``), then, for someone who
    may sign in, store a new link and return its secret. Unknown emails are counted too, so the
    limits answer the same for them."""
    email = normal_email(raw_email)
    now = clock()
    known = known_as(store, settings, email) if email is not None else None
    with store.sessions.begin() as session:
        count(session, f"client:{client or '-'}", PER_CLIENT, now)
        if email is not None:
            count(session, f"email:{email.casefold()}"[:255], PER_EMAIL, now)
        if known is None:
            return Requested(email)
        secret = secrets.token_urlsafe(LINK_BYTES)
        session.add(LoginLink(secret_sha256=digest(secret), email=known, next_path=safe_next(next_path),
                              created_at=now, expires_at=now + LINK_LIFETIME))
    return Requested(known, secret, now + LINK_LIFETIME)


@dataclass(frozen=True)
class Link:
    email: str
    next_path: str


def peek_link(store: Store, secret: str, *, clock: Clock = utcnow) -> Link | None:
    """The link's owner if it can still be used; changes nothing (what a GET may do)."""
    if not secret or len(secret) > 100:
        return None
    with store.sessions() as session:
        row = session.scalars(select(LoginLink).where(LoginLink.secret_sha256 == digest(secret))).first()
    if row is None or row.used_at is not None or row.expires_at <= clock():
        return None
    return Link(row.email, row.next_path)


def spend_link(session, secret: str, now: datetime) -> Link | None:
    """Mark the link used in the caller's transaction and return it; ``None`` when unknown,
    used or expired. The conditional UPDATE makes two concurrent POSTs spend it once."""
    if not secret or len(secret) > 100:
        return None
    row = session.scalars(select(LoginLink).where(LoginLink.secret_sha256 == digest(secret))).first()
    if row is None:
        return None
    spent = session.execute(update(LoginLink)
                            .where(LoginLink.id == row.id, LoginLink.used_at.is_(None), LoginLink.expires_at > now)
                            .values(used_at=now)).rowcount
    return Link(row.email, row.next_path) if spent == 1 else None


def link_url(settings: Settings, secret: str) -> str:
    return f"{settings.web_url}/auth/link?t={secret}"
