"""One service layer: a decision and its move in one transaction, preconditions asked once,
who acted recorded in the audit log, typed outcomes and views."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from isp_lifecycle import approvals, model, services, vocabulary
from isp_lifecycle.document import validate
from isp_lifecycle.errors import RefusedOperation, StaleUpdate, UnknownPartnership
from isp_lifecycle.identity import Identity
from isp_lifecycle.settings import Settings
from isp_lifecycle.store.models import AuditEntry, StageTransition

from .conftest import doc, dump, verdict_for, without_audit

AS_OF = date(2026, 11, 27)
PID = "gh-mnh-north"
DIRECTOR = "kboateng@mission.example.org"
LEADER = "ama.mensah@ghs.example.org"
SIGNED_IN = Identity(DIRECTOR, "email-link", credential="session-7", client="127.0.0.1")


def requested(store) -> int:
    services.import_document(store, doc())
    services.evaluate_gate(store, PID, verdict_for(), as_of=AS_OF)
    return services.request_approval(store, PID, requested_by=LEADER)


def audit_details(store, action: str) -> list[dict]:
    with store.sessions() as session:
        rows = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)).all()
    return [row if isinstance(row, dict) else json.loads(row) for row in rows]


def transitions(store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(StageTransition))


def test_an_approval_decided_and_applied_moves_the_stage_in_the_same_transaction(store):
    request_id = requested(store)
    decided = services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=True, note="ready")
    assert (decided.request_id, decided.status, decided.applied) == (request_id, "approved", True)
    assert services.export_document(store, PID).stage == "review" == decided.to_stage
    # the flow's apply step then finds the move done, and the sweep has nothing left
    assert approvals.apply_decision(store, request_id)["version"] == decided.version
    assert approvals.apply_decided(store) == [] and transitions(store) == 1
    assert approvals.settled(store, request_id)


def test_a_rejection_decided_through_the_same_command_moves_nothing(store):
    request_id = requested(store)
    decided = services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=False)
    assert (decided.status, decided.applied, decided.version) == ("rejected", False, None)
    assert services.export_document(store, PID).stage == "implement" and transitions(store) == 0
    assert approvals.settled(store, request_id)


def test_a_refused_decision_and_apply_leaves_only_its_audit_entry_with_who_tried(store):
    requested(store)
    before = dump(store)
    outsider = Identity("intruder@example.org", "token", credential="token-3", client="10.0.0.9")
    with pytest.raises(RefusedOperation) as refused:
        services.decide_and_apply(store, PID, identity=outsider, approve=True)
    assert refused.value.reason == vocabulary.Refusal.NOT_AN_APPROVER
    after = dump(store)
    assert without_audit(after) == without_audit(before)
    assert audit_details(store, "approve.refused")[-1]["identity"] == outsider.as_audit()


def test_every_decision_upload_and_move_records_who_acted_and_how(store):
    requested(store)
    services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=True)
    assert audit_details(store, "import")[0]["identity"] == Identity.asserted("tester@mission.example.org").as_audit()
    assert audit_details(store, "request-approval")[0]["identity"]["email"] == LEADER
    assert audit_details(store, "approve")[0]["identity"] == SIGNED_IN.as_audit()
    assert audit_details(store, "move")[0]["identity"] == SIGNED_IN.as_audit()


@pytest.mark.parametrize("identity", [Identity.asserted(DIRECTOR), Identity(DIRECTOR, "operator-token", "t-1")])
def test_requiring_sign_in_refuses_asserted_and_operator_token_decisions_and_audits_them(store, identity):
    requested(store)
    before = dump(store)
    strict = Settings(require_signed_in=True)
    with pytest.raises(RefusedOperation, match="ISP_REQUIRE_SIGNED_IN") as refused:
        services.decide_and_apply(store, PID, identity=identity, approve=True, settings=strict)
    assert refused.value.reason == "not-signed-in"
    assert without_audit(dump(store)) == without_audit(before)
    assert audit_details(store, "approve.refused")[-1]["identity"]["method"] == identity.method
    assert services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=True, settings=strict).applied


def test_a_second_decision_is_refused_and_a_stale_one_says_so(store):
    requested(store)
    services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=False)
    with pytest.raises(RefusedOperation) as second:
        services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=True)
    assert second.value.reason == "no-pending-request"
    services.evaluate_gate(store, PID, verdict_for(), as_of=AS_OF)
    services.request_approval(store, PID, requested_by=LEADER)
    services.import_document(store, doc(local_context="Changed while waiting."))
    with pytest.raises(StaleUpdate) as stale:
        services.decide_and_apply(store, PID, identity=SIGNED_IN, approve=True)
    assert stale.value.reason == "stale"


def test_advancing_is_checked_once_in_the_service_in_the_cli_order(store):
    with pytest.raises(UnknownPartnership):
        services.check_can_advance(store, "no-such-partnership")
    services.import_document(store, doc())
    plan = services.check_can_advance(store, PID)
    assert (plan.stage, plan.target, plan.gate) == ("implement", "review", "implement")
    with pytest.raises(RefusedOperation, match="--to chooses only when leaving review") as to:
        services.check_can_advance(store, PID, to="closed")
    assert to.value.reason == "to-only-from-review"
    requested_id = requested_again(store)
    with pytest.raises(RefusedOperation, match=rf"open approval request \(#{requested_id}, implement → review\); "
                                               "decide it with `isp approve`"):
        services.check_can_advance(store, PID)
    data = doc(id="no-director").to_data()
    del data["mission_director"]
    services.import_document(store, validate(data))
    with pytest.raises(RefusedOperation, match="no mission_director") as none:
        services.check_can_advance(store, "no-director")
    assert none.value.reason == "no-mission-director"
    services.import_document(store, doc(id="all-done", stage="closed"))
    with pytest.raises(RefusedOperation, match="there is no stage to move to"):
        services.check_can_advance(store, "all-done")


def requested_again(store) -> int:
    services.evaluate_gate(store, PID, verdict_for(), as_of=AS_OF)
    return services.request_approval(store, PID, requested_by=LEADER)


def test_the_views_are_typed_and_their_json_keeps_the_cli_keys_in_order(store):
    request_id = requested(store)
    (summary,) = services.list_partnerships(store, today=AS_OF)
    assert list(summary.to_json()) == ["id", "name", "mission", "stage", "stage_entered", "days_in_stage",
                                       "version", "pending_approvals", "last_verdict"]
    detail = services.show(store, PID, today=AS_OF)
    assert detail.summary == summary and [a.request for a in detail.open_approvals] == [request_id]
    assert list(detail.to_json())[-2:] == ["open_approvals", "findings"]
    assert [e.event for e in services.history(store, PID)][-1] == f"approval requested #{request_id}"
    (waiting,) = services.pending_requests(store)
    assert list(waiting.to_json()) == ["request", "partnership", "name", "from", "to", "requested_by",
                                       "requested_at", "age_days", "mission", "approvers"]  # keys added at the end


def test_the_vocabulary_is_the_one_the_document_format_and_the_lifecycle_use():
    from isp_lifecycle import facts, lifecycle, rulepack

    assert vocabulary.STAGES == model.STAGES == lifecycle.STAGES
    assert vocabulary.GATES == facts.GATES == lifecycle.GATES == vocabulary.STAGES[:-1]
    assert rulepack.SEVERITIES == vocabulary.SEVERITIES
    assert vocabulary.Stage.COMMIT == "commit" and json.dumps(vocabulary.Stage.CLOSED) == '"closed"'
