"""The audit chain: an append-only log whose rows are chained by HMAC-SHA256.

``hmac(n) = HMAC-SHA256(key, hmac(n-1) + canonical JSON of row n's fields)``; the first row
chains from the empty string. The key lives outside the database (``ISP_AUDIT_KEY``, else a
key file ``$ISP_HOME/audit.key`` created with mode 600), so someone who can write to the
database but not read the key cannot edit, delete or rewrite rows without ``verify`` noticing.
Deleting the newest rows is the one change a chain alone cannot show; see docs/store.md.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac as _hmac
import json
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..errors import StoreError
from .models import AuditEntry

FIELDS = ("seq", "at", "actor", "os_user", "host", "action", "partnership_id", "detail")
KEY_FILE = "audit.key"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_key() -> bytes:
    """``ISP_AUDIT_KEY``, else the key file in ``ISP_HOME`` (created, mode 600, on first use)."""
    from .. import settings
    from .engine import isp_home

    key = settings.current().audit_key
    if key:
        return key
    path = isp_home() / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created meanwhile by another process
        return path.read_bytes().strip()
    except OSError as exc:
        raise StoreError(f"cannot create the audit key {path}: {exc.strerror}") from None
    key = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def compute_hmac(key: bytes, prev_hmac: str, fields: dict[str, Any]) -> str:
    message = (prev_hmac + canonical_json({name: fields[name] for name in FIELDS})).encode("utf-8")
    return _hmac.new(key, message, hashlib.sha256).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in FIELDS}


def append(
    session: Session,
    key: bytes,
    *,
    at: str,
    actor: str,
    action: str,
    partnership_id: str | None,
    detail: dict[str, Any],
) -> AuditEntry:
    """Add the next row of the chain in the caller's transaction (call it last: it serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
    last = session.execute(select(AuditEntry.seq, AuditEntry.hmac).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hmac) if last else (1, "")
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        os_user=_os_user(),
        host=socket.gethostname(),
        action=action,
        partnership_id=partnership_id,
        detail=json.loads(canonical_json(detail)),
        prev_hmac=prev,
    )
    entry.hmac = compute_hmac(key, prev, _fields(entry))
    session.add(entry)
    session.flush()
    return entry


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return str(os.getuid())


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries verified"
        return f"audit chain broken at seq {self.bad_seq}: {self.reason}"


def verify(session: Session, key: bytes) -> AuditReport:
    """Recompute the chain from the first row; report the first row that does not hold."""
    prev, expected_seq, checked = "", 1, 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        if entry.seq != expected_seq:
            return AuditReport(False, checked, expected_seq, f"entry {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hmac != prev:
            return AuditReport(False, checked, entry.seq, "does not chain to the entry before it")
        if not _hmac.compare_digest(entry.hmac, compute_hmac(key, prev, _fields(entry))):
            return AuditReport(False, checked, entry.seq, "its content does not match its HMAC (edited, or another key)")
        prev, expected_seq, checked = entry.hmac, expected_seq + 1, checked + 1
    return AuditReport(True, checked)
