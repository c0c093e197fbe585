"""Approval use cases the flows call: replay-safe, applied once, reminded and escalated once."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from isp_lifecycle import approvals, services
from isp_lifecycle.store.models import ApprovalRequest, AuditEntry, Notification, StageTransition

from .conftest import doc, dump, without_audit

DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADERS = {"ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com"}
T0 = datetime(2026, 11, 27, 9, 0)


def opened(store, **kw):
    services.import_document(store, doc())
    return approvals.open_request(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org",
                                  as_of=T0.date(), clock=lambda: T0, **kw)


def count(store, model, **where):
    with store.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def test_opening_a_request_runs_the_real_gate_and_records_a_request(store):
    result = opened(store)
    assert result.gate == "implement" and result.request_id is not None and result.verdict["passed"] is True
    assert result.verdict["rules"]["digest"].startswith("sha256:")


def test_replaying_the_opening_step_returns_the_same_request(store):
    first = opened(store)
    again = approvals.open_request(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org")
    assert again.request_id == first.request_id
    assert count(store, ApprovalRequest) == 1


def test_a_blocked_gate_records_the_findings_and_asks_nobody(store):
    services.import_document(store, doc(stage="convene", stage_entered=None, partners=doc().to_data()["partners"][:1],
                                        initiatives=[], leaders=[]))
    result = approvals.open_request(store, "gh-mnh-north", requested_by="x@y.org", as_of=T0.date())
    assert result.blocked and result.verdict["passed"] is False
    assert count(store, ApprovalRequest) == 0


def test_a_decision_from_the_form_is_checked_again_and_an_unauthorised_one_is_refused_and_audited(store):
    request_id = opened(store).request_id
    before = dump(store)
    outcome = approvals.take_decision(store, request_id, approver="intruder@example.org", approve=True)
    assert outcome.refused and outcome.reason == "not-an-approver" and "intruder@example.org" in outcome.message
    after = dump(store)
    assert without_audit(after) == without_audit(before)
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    assert approvals.request(store, request_id).status == "pending"


def test_the_requester_may_not_decide_even_as_a_delegate(store):
    services.import_document(store, doc())
    request_id = approvals.open_request(store, "gh-mnh-north", requested_by=DELEGATE, as_of=T0.date()).request_id
    outcome = approvals.take_decision(store, request_id, approver=DELEGATE.upper(), approve=True)
    assert outcome.refused and outcome.reason == "requester-decides"


def test_a_decision_is_applied_exactly_once_however_often_it_is_applied(store):
    request_id = opened(store).request_id
    assert approvals.take_decision(store, request_id, approver=DIRECTOR, approve=True).kind == "recorded"
    first = approvals.apply_decision(store, request_id)
    second = approvals.apply_decision(store, request_id)
    assert first == second and first["version"] == 2
    assert approvals.apply_decided(store) == []
    assert count(store, StageTransition) == 1
    assert count(store, Notification, event="stage-moved") == len(recipients(store, "stage-moved")) > 0


def test_a_decision_recorded_while_no_workflow_waits_is_applied_by_the_sweep(store):
    request_id = opened(store).request_id
    services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=True)
    applied = approvals.apply_decided(store)
    assert [a["request"] for a in applied] == [request_id]
    assert services.export_document(store, "gh-mnh-north").stage == "review"


def test_a_rejection_changes_no_stage(store):
    request_id = opened(store).request_id
    approvals.take_decision(store, request_id, approver=DIRECTOR, approve=False, note="not yet")
    assert approvals.apply_decision(store, request_id)["decision"] == "rejected"
    assert services.export_document(store, "gh-mnh-north").stage == "implement"


def test_a_taken_decision_is_not_taken_again(store):
    request_id = opened(store).request_id
    services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=True)
    assert approvals.take_decision(store, request_id, approver=DELEGATE, approve=False).kind == "already-decided"
    assert approvals.request(store, request_id).decided_by == DIRECTOR


def recipients(store, event):
    with store.sessions() as session:
        return set(session.scalars(select(Notification.recipient).where(Notification.event == event)))


@pytest.mark.parametrize("remind_days", [7, 3])
def test_reminder_and_escalation_go_out_at_the_right_days_each_once(store, monkeypatch, remind_days):
    monkeypatch.setenv("ISP_REMIND_DAYS", str(remind_days))
    opened(store)
    days = timedelta(days=remind_days)
    at = lambda delta: T0 + delta  # noqa: E731
    assert approvals.remind_and_escalate(store, at(days)) == {"reminded": [], "escalated": []}
    first = approvals.remind_and_escalate(store, at(days + timedelta(hours=1)))
    assert len(first["reminded"]) == 1 and first["escalated"] == []
    assert approvals.remind_and_escalate(store, at(days + timedelta(days=1))) == {"reminded": [], "escalated": []}
    assert recipients(store, "approval-reminder") == {DIRECTOR, DELEGATE}
    assert approvals.remind_and_escalate(store, at(2 * days)) == {"reminded": [], "escalated": []}
    second = approvals.remind_and_escalate(store, at(2 * days + timedelta(hours=1)))
    assert second["escalated"] == first["reminded"]
    assert approvals.remind_and_escalate(store, at(3 * days)) == {"reminded": [], "escalated": []}
    assert recipients(store, "approval-escalated") == {DIRECTOR, DELEGATE} | LEADERS
    assert count(store, AuditEntry, action="remind") == 1 and count(store, AuditEntry, action="escalate") == 1


def test_a_decided_request_is_neither_reminded_nor_escalated(store):
    opened(store)
    services.decide(store, "gh-mnh-north", by=DIRECTOR, approve=False)
    assert approvals.remind_and_escalate(store, T0 + timedelta(days=30)) == {"reminded": [], "escalated": []}


def test_a_bad_remind_period_is_a_clear_error(store, monkeypatch):
    from isp_lifecycle.errors import UsageError

    monkeypatch.setenv("ISP_REMIND_DAYS", "a week")
    with pytest.raises(UsageError, match="ISP_REMIND_DAYS"):
        approvals.remind_and_escalate(store, T0)


def test_pending_lists_open_requests_oldest_first_with_their_age(store):
    request_id = opened(store).request_id
    rows = approvals.pending(store, T0 + timedelta(days=9, hours=2))
    assert [(r.request, r.age_days, r.partnership) for r in rows] == [(request_id, 9, "gh-mnh-north")]


def test_reminders_and_escalations_render_and_deliver_with_the_shipped_templates(store, tmp_path, monkeypatch):
    from isp_lifecycle.notifications.deliver import deliver_pending

    monkeypatch.setenv("ISP_OUTBOX_DIR", str(tmp_path / "outbox"))
    opened(store)
    approvals.remind_and_escalate(store, T0 + timedelta(days=8))
    approvals.remind_and_escalate(store, T0 + timedelta(days=15))
    report = deliver_pending(store, respect_backoff=False)
    assert report.errors == [] and report.failed == 0
    mails = [p.read_text() for p in (tmp_path / "outbox").glob("*.eml")]
    assert any("8 days" in m or "eight days" in m for m in mails if DELEGATE in m)
    assert sum(1 for m in mails if "To: " in m) == report.sent
