"""Many documents per transaction (``services.import_documents``), on SQLite and PostgreSQL: the
same outcomes and the same audit chain as one import after another, each document on its own."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from isp_lifecycle import imports, services
from isp_lifecycle.errors import RefusedOperation
from isp_lifecycle.store.models import ApprovalRequest, AuditEntry, Base
from isp_lifecycle.store.record import verify_store

from .conftest import doc, dump, verdict_for

MOMENT = datetime(2026, 12, 2, 9, 30)
LEADER = "ama.mensah@ghs.example.org"


def clock():
    return MOMENT


def empty(store) -> None:
    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def mixed_documents():
    """New partnerships, a new version, an unchanged repeat, a stage move (refused), a repeat."""
    return [
        doc("gh-mnh-north.yaml"),
        doc("ke-water-kisumu.yaml"),
        doc("healthy-convene.yaml"),
        doc("gh-mnh-north.yaml", local_context="New facts."),
        doc("ke-water-kisumu.yaml"),
        doc("healthy-convene.yaml", stage="commit"),
        doc("gh-mnh-north.yaml", local_context="Newer facts."),
    ]


def outcome(result) -> tuple:
    if isinstance(result, RefusedOperation):
        return ("refused", result.reason)
    return (result.partnership_id, result.version, result.status)


def test_a_bulk_import_writes_what_one_import_after_another_writes_audit_chain_included(store, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)  # several batches, and repeated ids split them
    bulk = services.import_documents(store, mixed_documents(), actor="importer@mission.example.org", clock=clock)
    after_bulk = dump(store)
    empty(store)
    one_by_one = []
    for document in mixed_documents():
        try:
            one_by_one.append(services.import_document(store, document, actor="importer@mission.example.org",
                                                       clock=clock))
        except RefusedOperation as refusal:
            one_by_one.append(refusal)
    assert [outcome(r) for r in bulk] == [outcome(r) for r in one_by_one]
    assert [outcome(r) for r in bulk][3:] == [("gh-mnh-north", 2, "updated"), ("ke-water-kisumu", 1, "unchanged"),
                                              ("refused", "stage-changed-by-import"), ("gh-mnh-north", 3, "updated")]
    assert comparable(after_bulk) == comparable(dump(store))  # the audit log's HMACs included
    assert verify_store(store).ok


def comparable(snapshot):
    """A dump with the document versions' row ids left out (only their order of insertion differs)."""
    return {**snapshot, "document_versions": sorted(row[1:] for row in snapshot["document_versions"])}


def test_the_refused_document_is_audited_and_the_others_of_its_batch_come_in(store):
    services.import_document(store, doc("healthy-convene.yaml"))
    results = services.import_documents(store, [doc("gh-mnh-north.yaml"), doc("healthy-convene.yaml", stage="commit"),
                                                doc("ke-water-kisumu.yaml")])
    assert [outcome(r) for r in results] == [("gh-mnh-north", 1, "created"), ("refused", "stage-changed-by-import"),
                                             ("ke-water-kisumu", 1, "created")]
    assert "`isp export tamale-health`" in str(results[1])
    with store.sessions() as session:
        actions = [(a.action, a.partnership_id) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[1:] == [("import", "gh-mnh-north"), ("import.refused", "tamale-health"),
                           ("import", "ke-water-kisumu")]
    assert services.show(store, "tamale-health").summary.stage == "convene"
    report = verify_store(store)
    assert report.ok and report.entries == 4, str(report)


def test_a_new_version_in_a_bulk_import_makes_the_pending_request_stale(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=date(2026, 11, 27))
    request = services.request_approval(store, "gh-mnh-north", requested_by=LEADER)
    (result,) = services.import_documents(store, [doc(local_context="New facts.")])
    assert (result.status, result.version, result.stale_requests) == ("updated", 2, (request,))
    with store.sessions() as session:
        assert session.get(ApprovalRequest, request).status == "stale"
    assert verify_store(store).ok


def test_a_batch_that_meets_a_concurrent_import_is_imported_again_one_document_at_a_time(store, backend, monkeypatch):
    if backend.name == "sqlite":
        pytest.skip("SQLite takes its write lock at BEGIN: no other writer can come between a batch's read and write")
    insert_new = imports._insert_new
    raced = []

    def another_writer_first(tx, created):
        if not raced:  # another process imports the first new document, and commits, meanwhile
            raced.append(services.import_document(store, created[0][0], actor="someone@else.example.org"))
        insert_new(tx, created)

    monkeypatch.setattr(imports, "_insert_new", another_writer_first)
    results = services.import_documents(store, [doc("gh-mnh-north.yaml"), doc("ke-water-kisumu.yaml")])
    assert raced[0].status == "created"
    assert [outcome(r) for r in results] == [("gh-mnh-north", 1, "unchanged"), ("ke-water-kisumu", 1, "created")]
    report = verify_store(store)
    assert report.ok and report.entries == 2, str(report)
