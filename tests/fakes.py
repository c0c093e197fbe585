"""An in-memory unit of work, so that the services' rules run in milliseconds without a database.

``FakeStore`` stands where a ``Store`` does: ``store.sessions.begin()`` gives a ``FakeSession``
(rows in dicts; ``get``, ``add`` and ``flush`` only), committed when the block ends and rolled
back when it raises. ``uow.run_command`` itself runs unchanged: the ``fake_store`` fixture only
swaps the class it builds for ``FakeUnitOfWork``, which IS a ``UnitOfWork`` whose four parts
that write SQL (``repo``, ``audit``, ``notify``, ``notify_many``) are replaced by in-memory
ones, and ``FakeRepository`` answers every lookup of ``uow.Repository`` from the rows. A test
(``test_the_fake_repository_answers_every_lookup_of_the_real_one``) fails when the real
repository grows a lookup the fake lacks.

What the fake does not do: SQL constraints, optimistic locking (``row_version``), and the
audit chain's HMAC. Those stay with the SQLite and PostgreSQL integration suites.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect

from isp_lifecycle import outbox
from isp_lifecycle.store.models import ApprovalRequest, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition
from isp_lifecycle.uow import UnitOfWork, stored_document
from isp_lifecycle.vocabulary import RequestStatus


@dataclass
class FakeDatabase:
    rows: dict[type, dict[Any, Any]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[outbox.Message] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def table(self, model: type) -> dict[Any, Any]:
        return self.rows.setdefault(model, {})

    def all(self, model: type) -> list[Any]:
        return list(self.table(model).values())

    def snapshot(self) -> tuple:
        """Every row's column values, and the lengths of the logs: enough to roll back."""
        columns = {
            model: {key: {c.key: getattr(obj, c.key) for c in sa_inspect(model).column_attrs}
                    for key, obj in table.items()}
            for model, table in self.rows.items()
        }
        return columns, {m: dict(t) for m, t in self.rows.items()}, len(self.audit), len(self.outbox)

    def restore(self, saved: tuple) -> None:
        columns, tables, audited, queued = saved
        self.rows = tables
        for model, table in columns.items():
            for key, values in table.items():
                for name, value in values.items():
                    setattr(self.rows[model][key], name, value)
        del self.audit[audited:], self.outbox[queued:]


class FakeSession:
    """The session calls the services make themselves; any other raises, naming what is missing."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.added: list[Any] = []

    def get(self, model: type, key: Any, **_: Any) -> Any:
        self.flush()
        return self.db.table(model).get(key)

    def add(self, obj: Any) -> None:
        self.added.append(obj)

    def flush(self) -> None:
        for obj in self.added:
            (pk,) = sa_inspect(type(obj)).primary_key
            if getattr(obj, pk.key) is None:
                setattr(obj, pk.key, next(self.db.ids))
            self.db.table(type(obj))[getattr(obj, pk.key)] = obj
        self.added.clear()

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"the fake session has no {name!r}: give FakeRepository the lookup, "
                                  "or test this through the SQLite/PostgreSQL suites")


class FakeSessions:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @contextmanager
    def begin(self):
        """One transaction: kept when the block ends, undone when it raises."""
        saved = self.db.snapshot()
        session = FakeSession(self.db)
        try:
            yield session
            session.flush()
        except BaseException:
            self.db.restore(saved)
            raise


class FakeStore:
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.sessions = FakeSessions(self.db)

    def close(self) -> None:
        pass


class FakeRepository:
    """``uow.Repository``'s lookups, answered from the rows in memory."""

    def __init__(self, session: FakeSession) -> None:
        self.session = session
        session.flush()
        self.db = session.db

    def partnership(self, partnership_id: str) -> PartnershipRow:
        from isp_lifecycle.errors import UnknownPartnership

        row = self.db.table(PartnershipRow).get(partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        return row

    def version(self, partnership_id: str, number: int) -> DocumentVersion | None:
        found = [v for v in self.db.all(DocumentVersion) if v.partnership_id == partnership_id and v.version == number]
        return found[0] if found else None

    def current_version(self, row: PartnershipRow) -> DocumentVersion:
        found = self.version(row.id, row.current_version)
        assert found is not None, f"{row.id} has no row for its current version {row.current_version}"
        return found

    def current_document(self, row: PartnershipRow):
        return stored_document(self.current_version(row))

    def _requests(self, partnership_id: str) -> list[ApprovalRequest]:
        return sorted((r for r in self.db.all(ApprovalRequest) if r.partnership_id == partnership_id),
                      key=lambda r: r.id)

    def pending_requests(self, partnership_id: str) -> list[ApprovalRequest]:
        return [r for r in self._requests(partnership_id) if r.status == RequestStatus.PENDING]

    def pending_request(self, partnership_id: str) -> ApprovalRequest | None:
        pending = self.pending_requests(partnership_id)
        return pending[0] if pending else None

    def latest_request(self, partnership_id: str) -> ApprovalRequest | None:
        requests = self._requests(partnership_id)
        return requests[-1] if requests else None

    def latest_evaluation(self, partnership_id: str, *, gate: str | None = None,
                          version: int | None = None) -> GateEvaluation | None:
        found = [e for e in self.db.all(GateEvaluation) if e.partnership_id == partnership_id
                 and (gate is None or e.gate == gate) and (version is None or e.document_version == version)]
        return max(found, key=lambda e: e.id) if found else None

    def transition_for(self, request_id: int) -> StageTransition | None:
        found = [t for t in self.db.all(StageTransition) if t.approval_id == request_id]
        return found[0] if found else None

    def unapplied_approval(self, row: PartnershipRow, target: str, gate: str | None) -> ApprovalRequest | None:
        evaluations = self.db.table(GateEvaluation)
        for r in reversed(self._requests(row.id)):
            if (r.status != RequestStatus.APPROVED or r.from_stage != row.stage or r.to_stage != target
                    or r.document_version != row.current_version or self.transition_for(r.id) is not None):
                continue
            if gate is None and r.evaluation_id is None:
                return r
            e = evaluations.get(r.evaluation_id)
            if gate is not None and e and e.gate == gate and e.passed and e.document_version == row.current_version:
                return r
        return None

    def open_or_unapplied(self, partnership_id: str) -> ApprovalRequest | None:
        for r in reversed(self._requests(partnership_id)):
            if r.status == RequestStatus.PENDING or (r.status == RequestStatus.APPROVED
                                                     and self.transition_for(r.id) is None):
                return r
        return None


class FakeUnitOfWork(UnitOfWork):
    """A ``UnitOfWork`` over a ``FakeSession``: audit entries and queued messages kept in lists."""

    @property
    def repo(self) -> FakeRepository:
        return FakeRepository(self.session)

    def audit(self, action: str, partnership_id: str | None, detail: dict[str, Any], identity=None) -> None:
        if identity is not None:
            detail = {**detail, "identity": identity.as_audit()}
        self.session.db.audit.append({"action": action, "partnership_id": partnership_id, "actor": self.actor,
                                      "at": self.now, "detail": detail})
        self.audited.append(len(self.session.db.audit))

    def notify(self, event: str, subject: str, partnership_id: str | None, recipients: list, payload: dict) -> None:
        self.notify_many([outbox.Message(event, subject, partnership_id, recipients, payload)])

    def notify_many(self, messages: list[outbox.Message]) -> int:
        self.session.db.outbox.extend(messages)
        return len(messages)
