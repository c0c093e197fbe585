"""Browser sessions, their CSRF tokens, and the device codes of ``isp login``.

Contract: ``docs/spec/api.md``, "Signing in". A session is a row in the store carried by a
cookie (``isp_session``) holding a 256-bit secret; the row keeps its SHA-256 and a public
``id``, which is what the audit log records. A session ends after 12 idle hours, after 7 days
in any case, or when revoked (sign-out, the account page). ``last_seen_at`` is refreshed at most
once a minute, so reading pages is not a write per request.

CSRF: the token of a session is an HMAC of its secret (``csrf_token``), so it needs no column,
changes with the session, and reveals nothing about the cookie. Forms carry it as
``csrf_token``, API calls as ``X-CSRF-Token``; the ``isp_csrf`` cookie holds the same value.

``isp login``: the command asks for a device code (kept as a hash) and a short user code; the
person confirms the user code in a signed-in browser; the command's next poll collects a token
made then, so the token's secret exists only in that one answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from . import signin
from .identity import Identity
from .services import utcnow
from .store import Store
from .store.models import DeviceLogin, WebSession

Clock = Callable[[], datetime]

IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=7)
TOUCH_EVERY = timedelta(seconds=60)
COOKIE = "isp_session"
CSRF_COOKIE = "isp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
METHODS = ("email-link", "oidc")

DEVICE_LIFETIME = timedelta(minutes=10)
DEVICE_INTERVAL = 2  # seconds between the command's polls
DEVICE_PER_CLIENT = 30  # device codes per client address in any 15 minutes
USER_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels (no words), no 0/O or 1/I to misread


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"isp-lifecycle csrf", hashlib.sha256).hexdigest()


def csrf_ok(secret: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret), str(presented))


# ------------------------------------------------------------------ sessions

@dataclass(frozen=True)
class Started:
    id: str
    secret: str
    email: str
    method: str
    expires: datetime
    next_path: str = "/"

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


def start(session, email: str, method: str, *, client: str | None, user_agent: str | None,
          now: datetime, next_path: str = "/") -> Started:
    """A new session in the caller's transaction; the secret is in the result only."""
    if method not in METHODS:
        raise ValueError(f"a session is made by {' or '.join(METHODS)}, not {method!r}")
    secret = secrets.token_urlsafe(32)
    row = WebSession(id=secrets.token_hex(8), secret_sha256=signin.digest(secret), email=email, method=method,
                     client=(client or None) and client[:100], user_agent=(user_agent or "")[:300] or None,
                     created_at=now, last_seen_at=now, expires_at=now + ABSOLUTE)
    session.add(row)
    session.flush()
    return Started(row.id, secret, email, method, row.expires_at, signin.safe_next(next_path))


def sign_in_with_link(store: Store, secret: str, *, client: str | None, user_agent: str | None = None,
                      clock: Clock = utcnow) -> Started | None:
    """Spend the link and start a session in one transaction; ``None`` for a used, expired or
    unknown link (nothing changes then)."""
    now = clock()
    with store.sessions.begin() as session:
        link = signin.spend_link(session, secret, now)
        if link is None:
            return None
        return start(session, link.email, "email-link", client=client, user_agent=user_agent, now=now,
                     next_path=link.next_path)


def sign_in_verified(store: Store, email: str, method: str, *, client: str | None,
                     user_agent: str | None = None, next_path: str = "/", clock: Clock = utcnow) -> Started:
    """A session for an identity another party verified (the OpenID provider)."""
    with store.sessions.begin() as session:
        return start(session, email, method, client=client, user_agent=user_agent, now=clock(),
                     next_path=next_path)


def _alive(row: WebSession | None, now: datetime) -> bool:
    return (row is not None and row.revoked_at is None and row.expires_at > now
            and now - row.last_seen_at < IDLE)


def authenticate(store: Store, secret: str | None, *, client: str | None = None,
                 clock: Clock = utcnow) -> Identity | None:
    """The identity a session cookie stands for, or ``None`` (unknown, ended, revoked, idle)."""
    if not secret or len(secret) > 100:
        return None
    now = clock()
    with store.sessions() as session:
        row = session.scalars(select(WebSession).where(WebSession.secret_sha256 == signin.digest(secret))).first()
        if not _alive(row, now):
            return None
        identity = Identity(email=row.email, method=row.method, credential=row.id, client=client)
        stale = now - row.last_seen_at > TOUCH_EVERY
    if stale:
        with store.sessions.begin() as session:
            session.execute(update(WebSession).where(WebSession.id == identity.credential).values(last_seen_at=now))
    return identity


def revoke(store: Store, session_id: str, *, email: str | None = None, clock: Clock = utcnow) -> bool:
    """End a session now (of ``email`` only, when given: a person revokes their own);
    ``False`` when there was no such live session."""
    query = update(WebSession).where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
    with store.sessions.begin() as session:
        if email is not None:
            row = session.get(WebSession, session_id)
            if row is None or row.email.casefold() != email.casefold():
                return False
        return session.execute(query.values(revoked_at=clock())).rowcount == 1


def sign_out(store: Store, secret: str | None, *, clock: Clock = utcnow) -> bool:
    if not secret or len(secret) > 100:
        return False
    with store.sessions.begin() as session:
        return session.execute(update(WebSession)
                               .where(WebSession.secret_sha256 == signin.digest(secret),
                                      WebSession.revoked_at.is_(None))
                               .values(revoked_at=clock())).rowcount == 1


def list_sessions(store: Store, email: str, *, clock: Clock = utcnow) -> list[dict[str, Any]]:
    """The live sessions of ``email``, newest first, without secrets."""
    now = clock()
    with store.sessions() as session:
        rows = session.scalars(select(WebSession).where(WebSession.revoked_at.is_(None),
                                                        WebSession.expires_at > now)
                               .order_by(WebSession.created_at.desc())).all()
    who = email.casefold()
    return [{"id": r.id, "method": r.method, "client": r.client, "user_agent": r.user_agent,
             "created": _stamp(r.created_at), "last_seen": _stamp(r.last_seen_at), "expires": _stamp(r.expires_at)}
            for r in rows if r.email.casefold() == who and _alive(r, now)]


# ------------------------------------------------------------------ isp login (device codes)

@dataclass(frozen=True)
class DeviceStart:
    device_code: str
    user_code: str
    expires_in: int
    interval: int = DEVICE_INTERVAL


def _user_code() -> str:
    return "".join(secrets.choice(USER_ALPHABET) for _ in range(8))


def normal_user_code(raw: str | None) -> str:
    return "".join(c for c in (raw or "").upper() if c in USER_ALPHABET)[:8]


def show_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def begin_device(store: Store, *, name: str | None, client: str | None, clock: Clock = utcnow) -> DeviceStart:
    """A new ``isp login``: limited per client address like link requests (``RateLimited``)."""
    now = clock()
    device = secrets.token_urlsafe(32)
    with store.sessions.begin() as session:
        signin.count(session, f"device:{client or '-'}", DEVICE_PER_CLIENT, now)
        code = _user_code()
        while session.scalars(select(DeviceLogin.id).where(DeviceLogin.user_code == code)).first() is not None:
            code = _user_code()
        session.add(DeviceLogin(device_sha256=signin.digest(device), user_code=code,
                                name=(name or "isp login")[:100], client=client, created_at=now,
                                expires_at=now + DEVICE_LIFETIME))
    return DeviceStart(device, show_user_code(code), int(DEVICE_LIFETIME.total_seconds()))


def pending_device(store: Store, user_code: str | None, *, clock: Clock = utcnow) -> dict[str, Any] | None:
    """The login a user code names, while it waits for confirmation (changes nothing)."""
    code = normal_user_code(user_code)
    if len(code) != 8:
        return None
    with store.sessions() as session:
        row = session.scalars(select(DeviceLogin).where(DeviceLogin.user_code == code)).first()
    if row is None or row.approved_at is not None or row.expires_at <= clock():
        return None
    return {"user_code": show_user_code(code), "name": row.name, "client": row.client,
            "created": _stamp(row.created_at)}


def approve_device(store: Store, user_code: str | None, email: str, *, clock: Clock = utcnow) -> bool:
    """The signed-in ``email`` confirms the code: the command's next poll gets a token for them."""
    code = normal_user_code(user_code)
    now = clock()
    with store.sessions.begin() as session:
        return session.execute(update(DeviceLogin)
                               .where(DeviceLogin.user_code == code, DeviceLogin.approved_at.is_(None),
                                      DeviceLogin.expires_at > now)
                               .values(approved_by=email, approved_at=now)).rowcount == 1


def collect_device(store: Store, device_code: str | None, issue: Callable[[str, str], str], *,
                   clock: Clock = utcnow) -> tuple[str, str | None]:
    """The command's poll: ``("pending", None)``, ``("expired", None)`` (also unknown or already
    collected), or ``("ok", secret)`` once, ``issue(email, name)`` making the token."""
    if not device_code or len(device_code) > 100:
        return "expired", None
    now = clock()
    with store.sessions.begin() as session:
        row = session.scalars(select(DeviceLogin)
                              .where(DeviceLogin.device_sha256 == signin.digest(device_code))).first()
        if row is None or row.collected_at is not None or row.expires_at <= now:
            return "expired", None
        if row.approved_at is None:
            return "pending", None
        taken = session.execute(update(DeviceLogin).where(DeviceLogin.id == row.id,
                                                          DeviceLogin.collected_at.is_(None))
                                .values(collected_at=now)).rowcount
        email, name = row.approved_by, row.name
    if taken != 1:
        return "expired", None
    return "ok", issue(email, name)
