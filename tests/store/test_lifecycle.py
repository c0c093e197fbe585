from datetime import date, datetime

import pytest
from sqlalchemy import select

from isp_lifecycle import lifecycle, services
from isp_lifecycle.errors import RefusedOperation, StaleUpdate
from isp_lifecycle.store.models import ApprovalRequest, Notification

from .conftest import doc, dump, verdict_for, without_audit

AS_OF = date(2026, 11, 27)
DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADER = "ama.mensah@ghs.example.org"


def fixed_clock(moment=datetime(2026, 12, 2, 9, 30)):
    return lambda: moment


def approved(store, partnership_id="gh-mnh-north", to=None, passed=True):
    """Evaluate, request and approve a move of the current stage; return the request id."""
    if to != "closed":
        services.evaluate_gate(store, partnership_id, verdict_for(passed=passed), as_of=AS_OF)
    request = services.request_approval(store, partnership_id, requested_by=LEADER, to=to)
    services.decide(store, partnership_id, by=DIRECTOR, approve=True)
    return request


def assert_refusal_only_audited(store, before, action):
    after = dump(store)
    assert without_audit(after) == without_audit(before)
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    assert after["audit_log"][-1][5] == f"{action}.refused"


@pytest.mark.parametrize("source", lifecycle.STAGES)
@pytest.mark.parametrize("target", lifecycle.STAGES)
def test_only_the_five_handbook_moves_are_allowed(source, target):
    expected = (source, target) in {
        ("convene", "commit"), ("commit", "implement"), ("implement", "review"),
        ("review", "implement"), ("review", "closed"),
    }
    assert lifecycle.is_allowed(source, target) is expected


def test_each_open_stage_has_its_own_gate_and_a_default_next_stage():
    assert [lifecycle.gate_of(s) for s in lifecycle.STAGES] == ["convene", "commit", "implement", "review", None]
    assert [lifecycle.next_stage(s) for s in lifecycle.STAGES] == ["commit", "implement", "review", "implement", None]
    assert lifecycle.gate_for_move("review", "closed") is None


def test_an_approved_move_writes_a_new_version_in_the_new_stage_entered_today(store):
    services.import_document(store, doc())
    approved(store)
    version = services.move_stage(store, "gh-mnh-north", actor=DIRECTOR, clock=fixed_clock())
    moved = services.export_document(store, "gh-mnh-north")
    assert (version, moved.stage, moved.stage_entered) == (2, "review", date(2026, 12, 2))
    assert services.export_document(store, "gh-mnh-north", version=1).stage == "implement"
    assert services.list_partnerships(store)[0].stage == "review"


def test_review_can_close_with_an_approval_and_no_gate_evaluation(store):
    services.import_document(store, doc(stage="review"))
    approved(store, to="closed")
    services.close(store, "gh-mnh-north")
    assert services.export_document(store, "gh-mnh-north").stage == "closed"


def test_a_forbidden_move_is_refused_and_only_audited(store):
    services.import_document(store, doc())
    before = dump(store)
    with pytest.raises(RefusedOperation, match="implement → closed is not allowed"):
        services.move_stage(store, "gh-mnh-north", to="closed")
    assert_refusal_only_audited(store, before, "move")


def test_a_move_without_an_approval_is_refused(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(passed=True), as_of=AS_OF)
    services.request_approval(store, "gh-mnh-north", requested_by=LEADER)
    before = dump(store)
    with pytest.raises(RefusedOperation, match="needs a passing implement gate evaluation and its approval"):
        services.move_stage(store, "gh-mnh-north")
    assert_refusal_only_audited(store, before, "move")


def test_an_approval_cannot_be_requested_after_a_failed_gate(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(passed=False), as_of=AS_OF)
    with pytest.raises(RefusedOperation, match="did not pass"):
        services.request_approval(store, "gh-mnh-north", requested_by=LEADER)


def test_an_approval_cannot_be_requested_without_an_evaluation_of_the_current_version(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(passed=True), as_of=AS_OF)
    services.import_document(store, doc(local_context="Changed after the evaluation."))
    with pytest.raises(RefusedOperation, match="not been evaluated on version 2"):
        services.request_approval(store, "gh-mnh-north", requested_by=LEADER)


def test_a_second_request_is_refused_while_one_is_open(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    services.request_approval(store, "gh-mnh-north", requested_by=LEADER)
    with pytest.raises(RefusedOperation, match="already has an open approval request"):
        services.request_approval(store, "gh-mnh-north", requested_by=LEADER)


def test_a_partnership_without_a_mission_director_cannot_be_advanced(store):
    data = doc().to_data()
    del data["mission_director"]
    from isp_lifecycle.document import validate

    services.import_document(store, validate(data))
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    with pytest.raises(RefusedOperation, match="no mission_director"):
        services.request_approval(store, "gh-mnh-north", requested_by=LEADER)


@pytest.mark.parametrize("who", [DIRECTOR, DELEGATE.upper()])
def test_the_director_or_a_delegate_in_any_letter_case_may_decide(store, who):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    request = services.request_approval(store, "gh-mnh-north", requested_by=LEADER)
    services.decide(store, "gh-mnh-north", by=who, approve=False, note="Not yet.")
    with store.sessions() as session:
        row = session.get(ApprovalRequest, request)
        assert (row.status, row.decided_by, row.note) == ("rejected", who, "Not yet.")


@pytest.mark.parametrize(
    "requester, decider, reason",
    [
        (LEADER, LEADER, "only its mission director or a delegate"),
        (DELEGATE, DELEGATE.title(), "requested this move"),
    ],
)
def test_a_decision_by_someone_unauthorised_or_by_the_requester_is_refused_and_only_audited(
    store, requester, decider, reason
):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    services.request_approval(store, "gh-mnh-north", requested_by=requester)
    before = dump(store)
    with pytest.raises(RefusedOperation, match=reason):
        services.decide(store, "gh-mnh-north", by=decider, approve=True)
    assert_refusal_only_audited(store, before, "approve")


def test_a_decision_with_no_pending_request_is_refused(store):
    services.import_document(store, doc())
    with pytest.raises(RefusedOperation, match="no pending approval request"):
        services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=True)


def test_a_changed_import_makes_the_pending_request_stale_so_it_cannot_be_decided(store):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    request = services.request_approval(store, "gh-mnh-north", requested_by=LEADER)
    result = services.import_document(store, doc(local_context="New facts."))
    assert result.stale_requests == (request,)
    before = dump(store)
    with pytest.raises(StaleUpdate, match=f"request #{request} is stale"):
        services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=True)
    assert_refusal_only_audited(store, before, "approve")


def test_a_verdict_computed_on_an_older_version_is_refused_as_stale_and_only_audited(store):
    services.import_document(store, doc())
    services.import_document(store, doc(local_context="Version 2."))
    before = dump(store)
    with pytest.raises(StaleUpdate, match="evaluate again"):
        services.record_evaluation(store, verdict_for()(doc(), "implement", AS_OF), document_version=1)
    assert_refusal_only_audited(store, before, "evaluate")


def test_an_approval_is_applied_once_and_the_next_move_needs_its_own(store):
    services.import_document(store, doc())
    approved(store)
    services.move_stage(store, "gh-mnh-north")
    with pytest.raises(RefusedOperation, match="review → implement: it needs a passing review gate"):
        services.move_stage(store, "gh-mnh-north", to="implement")


def test_each_event_queues_one_email_per_recipient_and_channel_and_one_webhook_post(store, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "outbox,webhook")
    services.import_document(store, doc())
    approved(store)
    with store.sessions() as session:
        rows = session.execute(select(Notification.event, Notification.recipient, Notification.channel)).all()
    requested = sorted((r, c) for e, r, c in rows if e == "approval-requested")
    assert requested == sorted([(DIRECTOR, "outbox"), (DELEGATE, "outbox"), ("*", "webhook")])
    decided = sorted((r, c) for e, r, c in rows if e == "approval-approved")
    # the requester is also a leader: one message each, whatever the number of roles
    assert decided == sorted([(LEADER, "outbox"), ("daniel.osei@tamalemobile.example.com", "outbox"),
                              (DIRECTOR, "outbox"), ("*", "webhook")])
