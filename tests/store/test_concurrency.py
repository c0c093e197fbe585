import threading
from datetime import date

from sqlalchemy import select

from isp_lifecycle import services
from isp_lifecycle.errors import RefusedOperation
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import ApprovalRequest, AuditEntry

from .conftest import doc, verdict_for

DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"


def test_two_concurrent_decisions_on_one_request_apply_exactly_one(store, database_url):
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=date(2026, 11, 27))
    request = services.request_approval(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org")
    deciders = [(DIRECTOR, True), (DELEGATE, False)]
    start = threading.Barrier(len(deciders))
    outcomes: dict[str, object] = {}

    def decide(who: str, approve: bool) -> None:
        own = Store.open(database_url)  # a separate engine, as a second process would have
        try:
            start.wait()
            outcomes[who] = services.decide(own, "gh-mnh-north", by=who, approve=approve)
        except RefusedOperation as exc:
            outcomes[who] = exc
        finally:
            own.close()

    threads = [threading.Thread(target=decide, args=pair) for pair in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winners = [who for who, outcome in outcomes.items() if outcome == request]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, RefusedOperation)]
    assert len(winners) == 1 and len(losers) == 1
    with store.sessions() as session:
        row = session.get(ApprovalRequest, request)
        assert row.decided_by == winners[0]
        assert row.status == ("approved" if winners[0] == DIRECTOR else "rejected")
        refusals = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%.refused"))).all()
    assert len(refusals) == 1
    assert services.verify_audit(store).ok
