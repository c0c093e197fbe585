import pytest

from isp_lifecycle import services
from isp_lifecycle.errors import RefusedOperation, UnknownPartnership, UsageError

from .conftest import doc, dump, fixture_docs, without_audit


@pytest.mark.parametrize("name", sorted(fixture_docs()))
def test_an_imported_fixture_exports_as_the_same_document(store, name):
    original = fixture_docs()[name]
    assert services.import_document(store, original).status == "created"
    assert services.export_document(store, original.id) == original


@pytest.mark.parametrize("name", sorted(fixture_docs()))
def test_reimporting_an_exported_document_changes_nothing(store, name):
    original = fixture_docs()[name]
    services.import_document(store, original)
    before = dump(store)
    exported = services.export_document(store, original.id)
    assert services.import_document(store, exported).status == "unchanged"
    assert dump(store) == before


def test_a_changed_document_becomes_version_2_and_version_1_is_kept(store):
    first = doc()
    services.import_document(store, first)
    changed = doc(local_context="Roads to the northern districts have been repaired.")
    result = services.import_document(store, changed)
    assert (result.status, result.version) == ("updated", 2)
    assert services.export_document(store, first.id) == changed
    assert services.export_document(store, first.id, version=1) == first


def test_an_import_that_changes_the_stage_is_refused_and_only_audited(store):
    services.import_document(store, doc())
    before = dump(store)
    with pytest.raises(RefusedOperation, match="stage"):
        services.import_document(store, doc(stage="review"))
    after = dump(store)
    assert without_audit(after) == without_audit(before)
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    assert after["audit_log"][-1][5] == "import.refused"


def test_an_import_that_changes_stage_entered_is_refused(store):
    services.import_document(store, doc())
    with pytest.raises(RefusedOperation, match="stage_entered"):
        services.import_document(store, doc(stage_entered="2026-08-01"))


def test_a_new_partnership_is_accepted_at_any_stage(store):
    result = services.import_document(store, doc(id="gh-closed-one", stage="closed"))
    assert result.status == "created"
    assert services.list_partnerships(store)[0].stage == "closed"


def test_exporting_an_unknown_partnership_writes_nothing(store):
    services.import_document(store, doc())
    before = dump(store)
    with pytest.raises(UnknownPartnership):
        services.export_document(store, "no-such-partnership")
    with pytest.raises(UsageError, match="no version 7"):
        services.export_document(store, "gh-mnh-north", version=7)
    assert dump(store) == before


def test_a_partnership_unknown_to_a_lifecycle_operation_writes_nothing(store):
    before = dump(store)
    with pytest.raises(UnknownPartnership):
        services.request_approval(store, "no-such-partnership", requested_by="a@b.example.org")
    with pytest.raises(UnknownPartnership):
        services.move_stage(store, "no-such-partnership", to="commit")
    assert dump(store) == before


def test_list_reports_stage_days_in_stage_pending_approvals_and_last_verdict(store):
    from datetime import date

    from .conftest import verdict_for

    services.import_document(store, doc())
    services.import_document(store, doc("ke-water-kisumu.yaml"))
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(passed=True), as_of=date(2026, 11, 27))
    services.request_approval(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org")
    rows = services.list_partnerships(store, today=date(2026, 11, 27))
    assert [r.id for r in rows] == ["gh-mnh-north", "ke-water-kisumu"]
    gh = rows[0]
    assert (gh.stage, gh.days_in_stage, gh.pending_approvals) == ("implement", 149, 1)
    assert gh.last_verdict.gate == "implement" and gh.last_verdict.passed is True
    assert rows[1].last_verdict is None
    assert [r.id for r in services.list_partnerships(store, mission="USAID/Kenya")] == ["ke-water-kisumu"]
    assert [r.id for r in services.list_partnerships(store, stage="implement")] == ["gh-mnh-north"]
