"""The whole record checked: the audit chain, a checkpoint, the documents, and the state tables
against what the audit log says happened (``isp audit verify``, ``docs/spec/cli.md``).

The chain (``audit.verify``) proves the log was not edited by someone without the key; a
checkpoint kept outside the database proves its newest entries were not removed. The rest of
the store is then held to the log, which says what happened:

- every document version's text hashes to the digest recorded with it, and to the digest the
  log recorded when it was written (imports, and moves since this check exists);
- each partnership exists if and only if the log records its import, and its stage and
  current version are those the log's imports and moves leave it at, with every version there;
- its approval requests, gate evaluations and stage transitions are exactly those the log
  records, each request in the status the log's decisions and imports leave it in.

Nothing here reads ``detail`` beyond the fields these actions record, so new fields (such as
``identity``) change nothing. The first problem names its place: an audit entry by its
number, the checkpoint, or a partnership by its id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import ApprovalRequest, AuditEntry, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition


@dataclass(frozen=True)
class RecordReport:
    ok: bool
    entries: int
    partnerships: int = 0
    problems: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.ok:
            return (f"audit chain intact: {self.entries} entries verified; "
                    f"{self.partnerships} partnerships agree with it")
        more = f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        return f"record not intact: {self.problems[0]}{more}"


@dataclass
class _Expected:
    """One partnership as the audit log leaves it."""

    created_at: int  # the entry of its first import
    stage: str | None = None
    version: int = 0
    digests: dict[int, tuple[str, int]] = field(default_factory=dict)  # version -> (sha256, entry)
    requests: dict[int, tuple[str, int]] = field(default_factory=dict)  # id -> (status, entry)
    evaluations: dict[int, tuple[bool, int]] = field(default_factory=dict)  # id -> (passed, entry)
    moves: dict[int, tuple[str, int]] = field(default_factory=dict)  # request id -> (to stage, entry)


def verify_record(session: Session, key: bytes, checkpoint: dict[str, Any] | None = None,
                  *, most: int = 20) -> RecordReport:
    """Check everything the module's docstring lists; at most ``most`` problems are collected."""
    chain = audit.verify(session, key)
    if not chain.ok:
        return RecordReport(False, chain.checked, problems=(f"audit entry {chain.bad_seq}: {chain.reason}",))
    if checkpoint is not None:
        held = audit.check_checkpoint(session, key, checkpoint)
        if not held.ok:
            place = "the checkpoint" if held.bad_seq is None else f"audit entry {held.bad_seq}"
            return RecordReport(False, chain.checked, problems=(f"{place}: {held.reason}",))
    expected = _replay(session)
    problems: list[str] = []
    rows = {row.id: row for row in session.scalars(select(PartnershipRow))}
    for pid in sorted(set(expected) | set(rows)):
        if len(problems) >= most:
            break
        problems.extend(f"partnership {pid}: {p}" for p in _compare(session, pid, expected.get(pid), rows.get(pid)))
    return RecordReport(not problems, chain.checked, len(rows), tuple(problems[:most]))


def _replay(session: Session) -> dict[str, _Expected]:
    """What the log says each partnership is, entry by entry."""
    found: dict[str, _Expected] = {}
    query = (select(AuditEntry.seq, AuditEntry.action, AuditEntry.partnership_id, AuditEntry.detail)
             .where(AuditEntry.partnership_id.is_not(None)).order_by(AuditEntry.seq))
    for seq, action, pid, detail in session.execute(query).yield_per(2000):
        if action == "import" and detail.get("created"):
            found[pid] = _Expected(created_at=seq, stage=detail.get("stage"))
        state = found.get(pid)
        if state is None:
            continue
        _apply(state, seq, action, detail)
    return found


def _apply(state: _Expected, seq: int, action: str, detail: dict[str, Any]) -> None:
    if action == "import":
        state.version = detail["version"]
        if detail.get("sha256"):
            state.digests[detail["version"]] = (detail["sha256"], seq)
        for request in detail.get("stale_requests", []):
            state.requests[request] = ("stale", seq)
    elif action == "evaluate":
        state.evaluations[detail["evaluation"]] = (bool(detail["passed"]), seq)
    elif action == "request-approval":
        state.requests[detail["request"]] = ("pending", seq)
    elif action in ("approve", "reject"):
        state.requests[detail["request"]] = ("approved" if action == "approve" else "rejected", seq)
    elif action == "move":
        state.stage, state.version = detail["to"], detail["version"]
        state.moves[detail["request"]] = (detail["to"], seq)
        if detail.get("sha256"):
            state.digests[detail["version"]] = (detail["sha256"], seq)


def _compare(session: Session, pid: str, expected: _Expected | None, row: PartnershipRow | None) -> list[str]:
    if expected is None:
        return ["in the store, but the audit log records no import of it"]
    if row is None:
        return [f"the audit log records its import (entry {expected.created_at}), the store has no such partnership"]
    problems = []
    if expected.stage is not None and row.stage != expected.stage:
        problems.append(f"its stage is {row.stage}, the audit log says {expected.stage}")
    if row.current_version != expected.version:
        problems.append(f"its current version is {row.current_version}, the audit log says {expected.version}")
    problems += _versions(session, pid, expected)
    problems += _requests(session, pid, expected)
    problems += _evaluations(session, pid, expected)
    problems += _transitions(session, pid, expected)
    return problems


def _versions(session: Session, pid: str, expected: _Expected) -> list[str]:
    problems, seen = [], set()
    for version in session.scalars(select(DocumentVersion).where(DocumentVersion.partnership_id == pid)):
        seen.add(version.version)
        actual = hashlib.sha256(version.document.encode("utf-8")).hexdigest()
        if actual != version.sha256:
            problems.append(f"the text of document version {version.version} does not match its recorded digest")
        recorded = expected.digests.get(version.version)
        if recorded is not None and recorded[0] != actual:
            problems.append(f"the text of document version {version.version} does not match the digest "
                            f"audit entry {recorded[1]} recorded")
    missing = sorted(set(range(1, expected.version + 1)) - seen)
    if missing:
        problems.append(f"document version(s) {', '.join(map(str, missing))} are missing")
    extra = sorted(v for v in seen if v > expected.version)
    if extra:
        problems.append(f"document version(s) {', '.join(map(str, extra))} are not in the audit log")
    return problems


def _against(what: str, expected: dict[int, tuple[Any, int]], actual: dict[int, Any], differs) -> list[str]:
    """Rows (``actual``, by id) against the log (``expected``: id -> (value, entry)): each one
    the log records is there and ``differs(row, value, entry)`` finds nothing; no other is."""
    problems = []
    for key, (value, seq) in sorted(expected.items()):
        if key not in actual:
            problems.append(f"{what} #{key} (audit entry {seq}) is missing")
        elif (wrong := differs(actual[key], value, seq)) is not None:
            problems.append(f"{what} #{key} {wrong}")
    problems += [f"{what} #{key} is not in the audit log" for key in sorted(set(actual) - set(expected))]
    return problems


def _request_differs(row: ApprovalRequest, status: str, seq: int) -> str | None:
    if row.status != status:
        return f"is {row.status}, the audit log says {status} (entry {seq})"
    if status in ("approved", "rejected") and not row.decided_by:
        return f"has lost who decided it (audit entry {seq})"
    return None


def _requests(session: Session, pid: str, expected: _Expected) -> list[str]:
    rows = {r.id: r for r in session.scalars(select(ApprovalRequest).where(ApprovalRequest.partnership_id == pid))}
    return _against("approval request", expected.requests, rows, _request_differs)


def _evaluations(session: Session, pid: str, expected: _Expected) -> list[str]:
    rows = dict(session.execute(select(GateEvaluation.id, GateEvaluation.passed)
                                .where(GateEvaluation.partnership_id == pid)).all())
    return _against("gate evaluation", expected.evaluations, rows, lambda passed, recorded, seq: None
                    if bool(passed) == recorded else f"does not say what audit entry {seq} recorded")


def _transitions(session: Session, pid: str, expected: _Expected) -> list[str]:
    rows = dict(session.execute(select(StageTransition.approval_id, StageTransition.to_stage)
                                .where(StageTransition.partnership_id == pid)).all())
    return _against("the stage move of approval request", expected.moves, rows, lambda to, recorded, seq: None
                    if to == recorded else f"went to {to}, audit entry {seq} says {recorded}")


# ------------------------------------------------------------------ entry points (CLI, flows)

CHECKPOINTS = "checkpoints"


def verify_store(store, checkpoint_file: str | None = None) -> RecordReport:
    """``isp audit verify [--checkpoint FILE]``: the key must exist (never created here)."""
    from ..errors import UsageError

    key = audit.load_key(create=False)
    checkpoint = None
    if checkpoint_file is not None:
        try:
            with open(checkpoint_file, encoding="utf-8") as handle:
                text = handle.read(1_000_000)
        except OSError as exc:
            raise UsageError(f"{checkpoint_file}: cannot read the checkpoint: {exc.strerror}") from None
        checkpoint = audit.read_checkpoint(text, checkpoint_file)
    with store.sessions.begin() as session:
        return verify_record(session, key, checkpoint)


def write_checkpoint(store, out: str | None = None, *, now=None):
    """``isp audit checkpoint [--out FILE]``: the log's checkpoint, written to ``out`` or to a
    new file under ``$ISP_HOME/checkpoints/``; returns the path. A chain that does not verify
    gets no checkpoint (``RefusedOperation``): a checkpoint vouches for what it saw."""
    import json
    import os
    from datetime import datetime, timezone
    from pathlib import Path

    from .. import settings
    from ..errors import RefusedOperation, UsageError

    key = audit.load_key(create=False)
    moment = now or datetime.now(timezone.utc).replace(tzinfo=None)
    with store.sessions.begin() as session:
        chain = audit.verify(session, key)
        if not chain.ok:
            raise RefusedOperation(f"no checkpoint of a broken log: audit entry {chain.bad_seq}: {chain.reason}")
        data = audit.checkpoint(session, key, moment.isoformat(timespec="seconds") + "Z")
    path = Path(out) if out else settings.current().home / CHECKPOINTS / f"checkpoint-{moment:%Y%m%dT%H%M%SZ}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(data) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the checkpoint: {exc.strerror}") from None
    return path
