"""API tokens: made, listed, revoked, and turned back into an ``Identity`` on every call.

A token is 256 random bits (``isp_`` + 43 URL-safe characters). The store keeps only its
SHA-256: 256 bits of randomness need no slow hash, and a copy of the database grants nothing.
The secret is shown once, when it is made, and never written anywhere else (no log, no audit
entry): what the record names is the token's ``id``.

    create        a new token for an email (``operator-token`` from ``isp token create``)
    list_tokens   the tokens of one email, or all, without their secrets
    revoke        end a token now (its next call answers 401)
    authenticate  the ``Identity`` a presented secret stands for, or ``None``
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from .errors import UsageError
from .identity import Identity
from .services import utcnow
from .store import Store, audit
from .store.models import ApiToken

PREFIX = "isp_"
DEFAULT_DAYS = 90
MAX_DAYS = 3660
# ``last_used`` is a courtesy shown in listings: refresh it at most this often, so that a busy
# script does not turn every read into a write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Made:
    id: str
    secret: str
    expires: datetime


def _well_formed(secret: str) -> bool:
    """Whether a presented secret could be one of ours (else it is not looked up at all)."""
    return secret.startswith(PREFIX) and len(secret) <= 200


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def create(store: Store, email: str, *, name: str | None = None, days: int = DEFAULT_DAYS,
           method: str = "operator-token", actor: str = "isp-lifecycle", now: datetime | None = None) -> Made:
    """Make a token for ``email`` valid ``days`` days; the secret is in the result and nowhere else."""
    email = email.strip()
    if not email or len(email) > 320 or any(c.isspace() for c in email):
        raise UsageError(f"EMAIL must be one address without spaces, not {email[:80]!r}")
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_DAYS}, not {days}")
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(8)
    expires = now + timedelta(days=days)
    with store.sessions.begin() as session:
        session.add(ApiToken(id=token_id, secret_sha256=_digest(secret), email=email, name=name or "",
                             method=method, created_at=now, expires_at=expires))
        session.flush()
        audit.append(session, audit.load_key(), at=_stamp(now), actor=actor, action="token-create",
                     partnership_id=None, detail={"token": token_id, "email": email, "method": method,
                                                  "expires": _stamp(expires)})
    return Made(token_id, secret, expires)


def _listed(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "email": token.email, "name": token.name, "method": token.method,
            "created": _stamp(token.created_at), "expires": _stamp(token.expires_at),
            "last_used": _stamp(token.last_used_at), "revoked": _stamp(token.revoked_at)}


def list_tokens(store: Store, email: str | None = None) -> list[dict[str, Any]]:
    """Every token (of ``email``, compared case-insensitively), oldest first, without secrets."""
    with store.sessions() as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()
    wanted = email.casefold() if email else None
    return [_listed(t) for t in rows if wanted is None or t.email.casefold() == wanted]


def revoke(store: Store, token_id: str, *, actor: str = "isp-lifecycle", now: datetime | None = None) -> bool:
    """End a token now; ``False`` if it was already revoked. An unknown id is a ``UsageError``."""
    now = now or utcnow()
    with store.sessions.begin() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise UsageError(f"no token {token_id[:40]!r} (see `isp token list`)")
        if token.revoked_at is not None:
            return False
        token.revoked_at = now
        session.flush()
        audit.append(session, audit.load_key(), at=_stamp(now), actor=actor, action="token-revoke",
                     partnership_id=None, detail={"token": token_id, "email": token.email})
    return True


class Recent:
    """Identities of tokens checked lately, kept so that a request costs no token lookup.

    An identity is taken from here only while its ``hand`` is the one it was checked under
    (the clock's credentials hand, which moves when any token is revoked, re-dated or deleted,
    migration 0009; with the service's count of whole portfolio reads, which moves when the
    clock goes back), the token has not expired, and for at most ``TOUCH_EVERY`` (then a
    lookup records the use again). A revocation from any process is therefore refused on the
    next request that read the clock after it. Keyed by the secret's digest, as the store is."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._found: dict[str, tuple[Hashable, Identity, datetime, datetime]] = {}

    def get(self, secret: str, hand: Hashable, client: str | None, now: datetime) -> Identity | None:
        found = self._found.get(_digest(secret)) if _well_formed(secret) else None
        if found is None:
            return None
        checked_hand, identity, expires_at, checked_at = found
        if checked_hand != hand or expires_at <= now or now - checked_at > TOUCH_EVERY:
            return None
        return Identity(email=identity.email, method=identity.method, credential=identity.credential, client=client)

    def keep(self, secret: str, hand: Hashable, identity: Identity, expires_at: datetime, now: datetime) -> None:
        if len(self._found) >= self.LIMIT:
            self._found.clear()
        self._found[_digest(secret)] = (hand, identity, expires_at, now)


def authenticate(store: Store, secret: str, *, client: str | None = None, now: datetime | None = None,
                 reads=None, recent: Recent | None = None, hand: Hashable | None = None) -> Identity | None:
    """The identity behind a presented secret; ``None`` for an unknown, expired or revoked one.
    ``reads``: the session factory to look it up with (default: the store's). With ``recent``
    and ``hand`` (as ``Recent``, read before this call), an identity checked lately is taken
    from ``recent`` and a looked-up one is kept there."""
    if not _well_formed(secret):
        return None
    now = now or utcnow()
    if recent is not None and hand is not None:
        known = recent.get(secret, hand, client, now)
        if known is not None:
            return known
    with (reads or store.sessions)() as session:
        token = session.execute(select(ApiToken.id, ApiToken.email, ApiToken.method, ApiToken.expires_at,
                                       ApiToken.last_used_at, ApiToken.revoked_at)
                                .where(ApiToken.secret_sha256 == _digest(secret))).first()
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        identity = Identity(email=token.email, method=token.method, credential=token.id, client=client)
        stale_use = token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY
    if stale_use:
        _touch(store, token.id, now)
    if recent is not None and hand is not None:
        recent.keep(secret, hand, identity, token.expires_at, now)
    return identity


def _touch(store: Store, token_id: str, now: datetime) -> None:
    with store.sessions.begin() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
