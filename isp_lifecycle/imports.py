"""Bringing documents into the store: one (``import_document``), or many, several hundred per
transaction (``import_documents``), each document all-or-nothing with its own outcome.

A new partnership comes in at any stage. A known one with different content gets a new
version that keeps its stage and ``stage_entered`` (stages move only through gates), and its
pending approval requests become stale; identical content changes nothing. Every import that
changes something writes one audit entry; a refused one writes one ``import.refused`` entry
and nothing else.

``import_documents`` reads a batch's partnerships in one query and inserts the new ones, their
first versions and every audit entry of the batch in one statement per table
(``audit.Chain``: the same entries, chained in the same order, as one import after another
would write). Known partnerships are updated as ``import_document`` updates them. A batch that
loses a race with another writer is rolled back and its documents are imported again one at a
time, so a conflict costs speed, never an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .errors import RefusedOperation
from .identity import Identity
from .model import Partnership
from .store import Store, audit
from .store.models import DocumentVersion, PartnershipRow
from .uow import (
    Clock,
    UnitOfWork,
    canonical_document,
    established,
    run_command,
    sha256_text,
    stored_document,
    utcnow,
)
from .vocabulary import Refusal, RequestStatus

BATCH = 500  # documents per transaction: one SELECT of their ids, a few INSERTs


@dataclass(frozen=True)
class ImportResult:
    partnership_id: str
    version: int
    status: Literal["created", "updated", "unchanged"]
    stale_requests: tuple[int, ...] = ()


def import_document(store: Store, doc: Partnership, *, actor: str | None = None, clock: Clock = utcnow,
                    identity: Identity | None = None) -> ImportResult:
    """A new partnership (any stage), or a new version of a known one that keeps its stage.
    ``identity`` (default: ``actor`` asserted) is recorded in the audit entry."""
    identity = established(identity, actor)
    sha = sha256_text(canonical_document(doc))

    def work(tx: UnitOfWork) -> ImportResult:
        row = tx.session.get(PartnershipRow, doc.id)
        if row is None:
            row = PartnershipRow(id=doc.id, current_version=0, created_at=tx.now, updated_at=tx.now)
            tx.session.add(row)
            tx.add_version(row, doc, "import")
            tx.session.flush()
            tx.audit("import", doc.id, _created(doc, sha), identity=identity)
            return ImportResult(doc.id, 1, "created")
        current = tx.current(row)
        if current.sha256 == sha:
            return ImportResult(doc.id, current.version, "unchanged")
        refusal = _stage_changed(doc, stored_document(current))
        if refusal is not None:
            raise refusal
        result, detail = _new_version(tx, row, doc, sha)
        tx.audit("import", doc.id, detail, identity=identity)
        return result

    return run_command(store, "import", doc.id, actor or identity.email, clock, work, identity=identity)


def import_documents(store: Store, docs: Iterable[Partnership], *, actor: str | None = None,
                     clock: Clock = utcnow, identity: Identity | None = None) -> list[ImportResult | RefusedOperation]:
    """``import_document`` for each of ``docs``, in order, ``BATCH`` per transaction: each one's
    result, or the refusal (also audited) that left it out. The audit chain holds the same
    entries as importing them one by one; a batch that meets a concurrent writer is imported
    again one document at a time."""
    identity = established(identity, actor)
    actor = actor or identity.email
    key = audit.load_key()
    outcomes: list[ImportResult | RefusedOperation] = []
    for batch in _batches(docs):
        try:
            with store.sessions.begin() as session:
                outcomes += _import_batch(UnitOfWork(session, key, actor, clock(), identity), batch)
        except (StaleDataError, IntegrityError):  # someone else wrote one of these meanwhile
            outcomes += [_one(store, doc, actor, clock, identity) for doc in batch]
    return outcomes


def _one(store: Store, doc: Partnership, actor: str, clock: Clock,
         identity: Identity) -> ImportResult | RefusedOperation:
    try:
        return import_document(store, doc, actor=actor, clock=clock, identity=identity)
    except RefusedOperation as refusal:
        return refusal


def _batches(docs: Iterable[Partnership]) -> Iterator[list[Partnership]]:
    """Runs of at most ``BATCH`` documents with distinct ids (a repeated id starts the next
    run, so its second document meets the first as a stored version)."""
    batch: list[Partnership] = []
    ids: set[str] = set()
    for doc in docs:
        if len(batch) >= BATCH or doc.id in ids:
            yield batch
            batch, ids = [], set()
        batch.append(doc)
        ids.add(doc.id)
    if batch:
        yield batch


def _import_batch(tx: UnitOfWork, docs: list[Partnership]) -> list[ImportResult | RefusedOperation]:
    session = tx.session
    ids = [doc.id for doc in docs]
    rows = {row.id: row for row in session.scalars(select(PartnershipRow).where(PartnershipRow.id.in_(ids)))}
    digests = dict(session.execute(
        select(DocumentVersion.partnership_id, DocumentVersion.sha256)
        .join(PartnershipRow, (PartnershipRow.id == DocumentVersion.partnership_id)
              & (PartnershipRow.current_version == DocumentVersion.version))
        .where(PartnershipRow.id.in_(ids))
    ).all())
    chain = audit.Chain(tx.key, at=tx.now.isoformat() + "Z", actor=tx.actor)
    who = {"identity": tx.identity.as_audit()} if tx.identity is not None else {}
    created: list[tuple[Partnership, str, str]] = []
    outcomes: list[ImportResult | RefusedOperation] = []
    for doc in docs:
        text = canonical_document(doc)
        sha = sha256_text(text)
        row = rows.get(doc.id)
        if row is None:
            created.append((doc, text, sha))
            chain.add("import", doc.id, {**_created(doc, sha), **who})
            outcomes.append(ImportResult(doc.id, 1, "created"))
        elif digests.get(doc.id) == sha:
            outcomes.append(ImportResult(doc.id, row.current_version, "unchanged"))
        elif (refusal := _stage_changed(doc, stored_document(tx.current(row)))) is not None:
            chain.add("import.refused", doc.id, {"reason": str(refusal), "error": type(refusal).__name__, **who})
            outcomes.append(refusal)
        else:
            result, detail = _new_version(tx, row, doc, sha)
            chain.add("import", doc.id, {**detail, **who})
            outcomes.append(result)
    _insert_new(tx, created)
    chain.write(session)
    return outcomes


def _insert_new(tx: UnitOfWork, created: list[tuple[Partnership, str, str]]) -> None:
    """The new partnerships and their first versions, one INSERT for each table."""
    if not created:
        return
    now, actor = tx.now, tx.actor
    tx.session.execute(PartnershipRow.__table__.insert(), [
        {"id": doc.id, "name": doc.name, "mission": doc.mission, "stage": doc.stage, "stage_entered": doc.entered,
         "current_version": 1, "row_version": 1, "created_at": now, "updated_at": now}
        for doc, _, _ in created
    ])
    tx.session.execute(DocumentVersion.__table__.insert(), [
        {"partnership_id": doc.id, "version": 1, "document": text, "sha256": sha, "stage": doc.stage,
         "reason": "import", "created_by": actor, "created_at": now}
        for doc, text, sha in created
    ])


def _created(doc: Partnership, sha: str) -> dict[str, Any]:
    return {"version": 1, "sha256": sha, "stage": doc.stage, "created": True}


def _stage_changed(doc: Partnership, old: Partnership) -> RefusedOperation | None:
    """The refusal of an import that would move the stage (or its date), which only gates move."""
    if (old.stage, old.entered) == (doc.stage, doc.entered):
        return None
    return RefusedOperation(
        f"{doc.id}: an import may not change stage or stage_entered "
        f"(stored: {old.stage} since {old.entered}; file: {doc.stage} since {doc.entered}); "
        "stages move only through gates (`isp advance`); start your edits from the stored "
        f"document: `isp export {doc.id}`", Refusal.STAGE_CHANGED_BY_IMPORT,
    )


def _new_version(tx: UnitOfWork, row: PartnershipRow, doc: Partnership,
                 sha: str) -> tuple[ImportResult, dict[str, Any]]:
    """A known partnership's new version, its pending requests made stale: the result and the
    detail of its audit entry."""
    version = tx.add_version(row, doc, "import")
    pending = tx.repo.pending_requests(doc.id)
    for request in pending:
        request.status = RequestStatus.STALE.value
    tx.touch(row)
    stale = tuple(r.id for r in pending)
    return (ImportResult(doc.id, version.version, "updated", stale),
            {"version": version.version, "sha256": sha, "stale_requests": list(stale)})
