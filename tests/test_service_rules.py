"""The services' rules on an in-memory unit of work (``tests/fakes.py``): milliseconds, no database.

The same rules run against SQLite and PostgreSQL in ``tests/store``; here each refusal and
each effect is checked on its own, quickly, with the real ``uow.run_command`` around it.
"""

from __future__ import annotations

import inspect
from datetime import date, datetime

import pytest

from isp_lifecycle import approvals, commands, decisions, services, uow, views
from isp_lifecycle.errors import RefusedOperation, StaleUpdate, UnknownPartnership
from isp_lifecycle.store.models import ApprovalRequest, PartnershipRow, StageTransition

from .fakes import FakeRepository, FakeStore, FakeUnitOfWork
from .store.conftest import doc, verdict_for

DIRECTOR, DELEGATE, LEADER = "kboateng@mission.example.org", "eowusu@mission.example.org", "ama.mensah@ghs.example.org"
AS_OF = date(2026, 11, 27)


def clock() -> datetime:
    return datetime(2026, 11, 27, 9, 0)


@pytest.fixture
def fake(monkeypatch) -> FakeStore:
    monkeypatch.setattr(uow, "UnitOfWork", FakeUnitOfWork)  # what run_command builds
    for module in (approvals, commands, decisions, views):  # what the commands and read views build
        if hasattr(module, "Repository"):
            monkeypatch.setattr(module, "Repository", FakeRepository)
    monkeypatch.setenv("ISP_AUDIT_KEY", "fake-key")
    return FakeStore()


def imported(store, document=None) -> str:
    document = document or doc()
    services.import_document(store, document, actor=LEADER, clock=clock)
    return document.id


def requested(store, passed: bool = True) -> int:
    pid = imported(store)
    services.evaluate_gate(store, pid, verdict_for(passed), as_of=AS_OF, clock=clock)
    return services.request_approval(store, pid, requested_by=LEADER, clock=clock)


def test_the_fake_repository_answers_every_lookup_of_the_real_one():
    public = {name for name, _ in inspect.getmembers(uow.Repository, inspect.isfunction) if not name.startswith("_")}
    assert public - set(dir(FakeRepository)) == set()


def test_a_request_needs_a_mission_director(fake):
    pid = imported(fake, doc(mission_director=None, delegates=[]))
    with pytest.raises(RefusedOperation, match="has no mission_director"):
        services.request_approval(fake, pid, requested_by=LEADER, clock=clock)


def test_a_second_request_is_refused_while_one_is_open_and_the_refusal_alone_is_audited(fake):
    first = requested(fake)
    before = len(fake.db.all(ApprovalRequest))
    with pytest.raises(RefusedOperation, match=rf"already has an open approval request \(#{first}"):
        services.request_approval(fake, "gh-mnh-north", requested_by=LEADER, clock=clock)
    assert len(fake.db.all(ApprovalRequest)) == before
    assert fake.db.audit[-1]["action"] == "request-approval.refused"


def test_a_request_needs_a_passing_evaluation_of_the_current_version(fake):
    pid = imported(fake)
    with pytest.raises(RefusedOperation, match="gate has not been evaluated on version 1"):
        services.request_approval(fake, pid, requested_by=LEADER, clock=clock)
    services.evaluate_gate(fake, pid, verdict_for(False), as_of=AS_OF, clock=clock)
    with pytest.raises(RefusedOperation, match="gate did not pass"):
        services.request_approval(fake, pid, requested_by=LEADER, clock=clock)
    assert [m.event for m in fake.db.outbox] == ["gate-blocked"]


def test_a_closed_partnership_has_no_stage_to_move_to(fake):
    pid = imported(fake, doc(stage="closed"))
    with pytest.raises(RefusedOperation, match="there is no stage to move to"):
        services.request_approval(fake, pid, requested_by=LEADER, clock=clock)


def test_only_the_director_or_a_delegate_who_did_not_ask_may_decide(fake):
    requested(fake)
    with pytest.raises(RefusedOperation, match="only its mission director or a delegate"):
        services.decide(fake, "gh-mnh-north", by="someone@example.org", approve=True, clock=clock)
    request = fake.db.all(ApprovalRequest)[0]
    request.requested_by = DELEGATE
    with pytest.raises(RefusedOperation, match="requested this move and may not also decide it"):
        services.decide(fake, "gh-mnh-north", by=DELEGATE.upper(), approve=True, clock=clock)
    services.decide(fake, "gh-mnh-north", by=DIRECTOR, approve=True, clock=clock)
    assert request.status == "approved" and request.decided_by == DIRECTOR
    assert fake.db.outbox[-1].event == "approval-approved"


def test_a_decision_on_a_changed_document_is_stale(fake):
    requested(fake)
    services.import_document(fake, doc(local_context="Changed since the request."), actor=LEADER, clock=clock)
    with pytest.raises(StaleUpdate, match="is stale, the document changed since"):
        services.decide(fake, "gh-mnh-north", by=DIRECTOR, approve=True, clock=clock)


def test_a_move_needs_an_approval_and_uses_it_once(fake):
    requested(fake)
    with pytest.raises(RefusedOperation, match="cannot move implement → review"):
        services.move_stage(fake, "gh-mnh-north", clock=clock)
    services.decide(fake, "gh-mnh-north", by=DIRECTOR, approve=True, clock=clock)
    assert services.move_stage(fake, "gh-mnh-north", clock=clock) == 2
    row = fake.db.table(PartnershipRow)["gh-mnh-north"]
    assert (row.stage, row.stage_entered) == ("review", date(2026, 11, 27))
    assert [(t.from_stage, t.to_stage) for t in fake.db.all(StageTransition)] == [("implement", "review")]
    with pytest.raises(RefusedOperation, match="cannot move review → implement: it needs a passing review gate"):
        services.move_stage(fake, "gh-mnh-north", clock=clock)


def test_an_import_may_not_move_a_stage_and_a_refusal_changes_nothing(fake):
    imported(fake)
    with pytest.raises(RefusedOperation, match="may not change stage"):
        services.import_document(fake, doc(stage="review"), actor=LEADER, clock=clock)
    assert fake.db.table(PartnershipRow)["gh-mnh-north"].current_version == 1
    assert [e["action"] for e in fake.db.audit] == ["import", "import.refused"]


def test_an_unknown_partnership_is_refused_without_an_audit_entry(fake):
    with pytest.raises(UnknownPartnership):
        services.decide(fake, "no-such", by=DIRECTOR, approve=True, clock=clock)
    assert fake.db.audit == []
