"""The audit chain: an append-only log whose rows are chained by HMAC-SHA256.

``hmac(n) = HMAC-SHA256(key, hmac(n-1) + canonical JSON of row n's fields)``; the first row
chains from the empty string. The key lives outside the database (``ISP_AUDIT_KEY``, else a
key file ``$ISP_HOME/audit.key`` created with mode 600), so someone who can write to the
database but not read the key cannot edit, delete or rewrite rows without ``verify`` noticing.
Deleting the newest rows is the one change a chain alone cannot show: a checkpoint
(``checkpoint``: the number of entries and the newest ``hmac``, under a MAC) kept outside the
database shows it (``check_checkpoint``). Verifying and checkpointing read the key and never
create one (``load_key(create=False)``): a missing key there is a usage error, not a new key
that would make every entry look forged. ``isp_lifecycle.store.record`` checks the rest of
the store against the log. The chain is agnostic of ``detail``: entries say who acted in
``detail["identity"]`` (``Identity.as_audit()``), hashed like every other field.
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

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..errors import StoreError, UsageError
from .models import AuditEntry

FIELDS = ("seq", "at", "actor", "os_user", "host", "action", "partnership_id", "detail")
KEY_FILE = "audit.key"
HEAD = "isp.audit_head"  # session.info: (transaction, seq, hmac) of the entry last appended in it


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_key(*, create: bool = True) -> bytes:
    """``ISP_AUDIT_KEY``, else the key file in ``ISP_HOME`` (created, mode 600, on first use
    unless ``create`` is false: then a missing key is a ``UsageError``)."""
    from .. import settings

    current = settings.current()
    if current.audit_key:
        return current.audit_key
    path = current.home / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        if not create:
            raise UsageError(f"no audit key: set ISP_AUDIT_KEY or restore {path} "
                             "(verifying and checkpointing never create one)") from None
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


def _head(session: Session) -> tuple[int, str]:
    """The next entry's ``seq`` and the ``hmac`` it chains from. The first append of a
    transaction locks the log on PostgreSQL (until the commit: writers append one at a time;
    SQLite's writers are serialised anyway) and reads its head; the next ones in the same
    transaction chain from what it appended (``HEAD`` in ``session.info``)."""
    known = session.info.get(HEAD)
    if known is not None and known[0] is session.get_transaction():
        return known[1] + 1, known[2]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
    last = session.execute(select(AuditEntry.seq, AuditEntry.hmac).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (last.seq + 1, last.hmac) if last else (1, "")


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
    seq, prev = _head(session)
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
    session.info[HEAD] = (session.get_transaction(), entry.seq, entry.hmac)
    return entry


class Chain:
    """Many entries of one actor at one time, written together: the entries ``append`` would
    write one by one, in the order they were added, chained from the head as it is when
    ``write`` runs (call it last, as ``append``) and inserted in one statement."""

    def __init__(self, key: bytes, *, at: str, actor: str) -> None:
        self.key = key
        self.common = {"at": at, "actor": actor, "os_user": _os_user(), "host": socket.gethostname()}
        self.pending: list[dict[str, Any]] = []

    def add(self, action: str, partnership_id: str | None, detail: dict[str, Any]) -> None:
        self.pending.append({**self.common, "action": action, "partnership_id": partnership_id,
                             "detail": json.loads(canonical_json(detail))})

    def write(self, session: Session) -> list[int]:
        """Insert the pending entries in the caller's transaction; their numbers."""
        if not self.pending:
            return []
        session.flush()
        seq, prev = _head(session)
        for entry in self.pending:
            entry.update(seq=seq, prev_hmac=prev)
            entry["hmac"] = prev = compute_hmac(self.key, prev, entry)
            seq += 1
        session.execute(AuditEntry.__table__.insert(), self.pending)
        session.info[HEAD] = (session.get_transaction(), self.pending[-1]["seq"], self.pending[-1]["hmac"])
        written, self.pending = [e["seq"] for e in self.pending], []
        return written


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


# ------------------------------------------------------------------ checkpoints

def _checkpoint_mac(key: bytes, entries: int, head: str, at: str) -> str:
    message = canonical_json({"entries": entries, "head": head, "at": at}).encode("utf-8")
    return _hmac.new(key, message, hashlib.sha256).hexdigest()


def checkpoint(session: Session, key: bytes, at: str) -> dict[str, Any]:
    """``{"entries": N, "head": hmac of entry N, "at": …, "mac": …}`` for the log as it is now."""
    last = session.execute(select(AuditEntry.seq, AuditEntry.hmac).order_by(AuditEntry.seq.desc()).limit(1)).first()
    entries, head = (last.seq, last.hmac) if last else (0, "")
    return {"entries": entries, "head": head, "at": at, "mac": _checkpoint_mac(key, entries, head, at)}


def read_checkpoint(text: str, where: str) -> dict[str, Any]:
    """A checkpoint file's content, checked for shape (a usage error names what is wrong)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError(f"{where}: not a checkpoint (not JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), int) or data["entries"] < 0 \
            or not all(isinstance(data.get(name), str) for name in ("head", "at", "mac")):
        raise UsageError(f"{where}: not a checkpoint (it needs entries, head, at and mac)")
    return data


def check_checkpoint(session: Session, key: bytes, data: dict[str, Any]) -> AuditReport:
    """The log against a checkpoint: the checkpoint's MAC holds, the log has at least its
    entries, and its entry N is the one the checkpoint saw."""
    entries, head = data["entries"], data["head"]
    if not _hmac.compare_digest(data["mac"], _checkpoint_mac(key, entries, head, data["at"])):
        return AuditReport(False, 0, None, "the checkpoint's MAC does not hold (edited, or made with another key)")
    if entries == 0:
        return AuditReport(True, 0)
    count = session.scalar(select(func.count()).select_from(AuditEntry))
    if count < entries:
        return AuditReport(False, count, count + 1,
                           f"the log holds {count} entries, the checkpoint of {data['at']} saw {entries}: "
                           f"entries {count + 1} to {entries} were removed")
    found = session.scalar(select(AuditEntry.hmac).where(AuditEntry.seq == entries))
    if found is None or not _hmac.compare_digest(found, head):
        return AuditReport(False, count, entries, f"differs from the checkpoint of {data['at']}")
    return AuditReport(True, count)
