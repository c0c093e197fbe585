"""Decisions stay right when they race, on SQLite and PostgreSQL: the service's use cases
(``access.Access``, what every route calls) run in threads that start together.

The HTTP suite proves the same over two ``isp web`` processes on PostgreSQL
(``test_scale.py``); here both backends, and the service's own snapshot of who sees what."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from isp_lifecycle import access, services, settings
from isp_lifecycle.errors import RefusedOperation
from isp_lifecycle.identity import Identity
from isp_lifecycle.store.models import AuditEntry, StageTransition

from ..store.conftest import backend, database_url, doc, env, store, verdict_for  # noqa: F401 (fixtures)

AS_OF = date(2026, 11, 27)
DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
LEADER = "ama.mensah@ghs.example.org"
RACES = 6


def token_identity(email: str) -> Identity:
    return Identity(email, "operator-token", credential=f"token-of-{email}", client="127.0.0.1")


def opened(store, partnership_id: str) -> int:
    services.import_document(store, doc(id=partnership_id))
    services.evaluate_gate(store, partnership_id, verdict_for(), as_of=AS_OF)
    return services.request_approval(store, partnership_id, requested_by=LEADER)


def race(service: access.Access, request_id: int) -> list[object]:
    """The director approves and the delegate rejects ``request_id`` at the same moment."""
    start, outcomes = threading.Barrier(2), []

    def decide(who: str, approve: bool) -> None:
        start.wait()
        try:
            outcomes.append(service.decide(token_identity(who), request_id, approve=approve, note=None))
        except RefusedOperation as exc:  # 409 in the HTTP API
            outcomes.append(exc)

    threads = [threading.Thread(target=decide, args=pair) for pair in ((DIRECTOR, True), (DELEGATE, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def count(store, query) -> int:
    with store.sessions() as session:
        return session.scalar(query)


def test_two_deciders_at_once_one_wins_the_other_is_refused_and_the_chain_verifies(store):
    service = access.Access(store, settings.current())
    requests = [opened(store, f"gh-race-{n}") for n in range(RACES)]
    service.partnerships(token_identity(DIRECTOR), mission=None, stage=None, after=None, limit=100)  # warm
    refusals_before = count(store, select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action.in_(["approve.refused", "reject.refused"])))
    for request_id in requests:
        outcomes = race(service, request_id)
        won = [o for o in outcomes if isinstance(o, dict)]
        lost = [o for o in outcomes if isinstance(o, RefusedOperation)]
        assert (len(won), len(lost)) == (1, 1), outcomes
        assert won[0]["id"] == request_id and won[0]["applied"] is True
        assert won[0]["status"] == ("approved" if won[0]["decided_by"] == DIRECTOR else "rejected")
    approved = [r for r in requests if service.approval(token_identity(DIRECTOR), r)["status"] == "approved"]
    assert count(store, select(func.count()).select_from(StageTransition)) == len(approved)
    refusals = count(store, select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action.in_(["approve.refused", "reject.refused"])))
    assert refusals - refusals_before == RACES  # each loser's refusal, audited once
    assert services.verify_audit(store).ok


def test_a_decision_on_a_request_decided_meanwhile_never_decides_the_next_one(store):
    first = opened(store, "gh-next")
    services.decide_and_apply(store, "gh-next", identity=token_identity(DELEGATE), approve=False)
    services.evaluate_gate(store, "gh-next", verdict_for(), as_of=AS_OF)
    second = services.request_approval(store, "gh-next", requested_by=LEADER)
    with pytest.raises(RefusedOperation, match=f"#{first} is no longer pending"):
        services.decide_and_apply(store, "gh-next", identity=token_identity(DIRECTOR), approve=True,
                                  request_id=first)
    service = access.Access(store, settings.current())
    assert service.approval(token_identity(DIRECTOR), second)["status"] == "pending"
    assert services.verify_audit(store).ok


def test_the_service_sees_every_change_made_after_it_read_the_portfolio(store):
    """Moves, new partnerships and a change of director, made by another writer (the store
    directly), all show in the next answers of a service that had already read everything
    (among enough others that it reads again only what changed)."""
    service = access.Access(store, settings.current())
    director = token_identity(DIRECTOR)
    for n in range(10):
        services.import_document(store, doc(id=f"gh-other-{n}"))
    request_id = opened(store, "gh-seen-1")
    opened(store, "gh-seen-2")

    def listed(who: Identity) -> dict[str, str]:
        found = service.partnerships(who, mission=None, stage=None, after=None, limit=100)[0]
        return {p["id"]: p["stage"] for p in found if p["id"].startswith("gh-seen")}

    assert listed(director) == {"gh-seen-1": "implement", "gh-seen-2": "implement"}
    services.decide_and_apply(store, "gh-seen-1", identity=director, approve=True)
    assert service.approval(director, request_id)["applied"] is True
    assert listed(director) == {"gh-seen-1": "review", "gh-seen-2": "implement"}
    services.import_document(store, doc(id="gh-seen-0"))
    assert list(listed(director)) == ["gh-seen-0", "gh-seen-1", "gh-seen-2"]  # in id order
    other = "a.new.director@mission.example.org"
    services.import_document(store, doc(id="gh-seen-2", mission="USAID/Elsewhere", delegates=[],
                                        mission_director={"name": "New", "email": other}))
    assert list(listed(director)) == ["gh-seen-0", "gh-seen-1"]
    assert list(listed(token_identity(other))) == ["gh-seen-2"]


@pytest.mark.slow
def test_over_http_with_two_workers_on_sqlite_one_decision_per_request_wins_and_the_other_is_409(web_store, tmp_path):
    import asyncio

    import httpx

    from isp_lifecycle import approvals, tokens
    from isp_lifecycle.document import load, validate

    from .conftest import ADMIN, FIXTURES, WebServer

    data = load(FIXTURES / "gh-mnh-north.yaml").to_data()
    request_ids, run = [], uuid.uuid4().hex[:8]
    for n in range(RACES):
        pid = f"gh-two-workers-{run}-{n}"
        services.import_document(web_store, validate({**data, "id": pid}), actor=ADMIN)
        request_ids.append(approvals.open_request(web_store, pid, requested_by=LEADER, as_of=AS_OF,
                                                  engine="python").request_id)
    secrets = {who: tokens.create(web_store, who).secret for who in (DIRECTOR, DELEGATE)}
    server = WebServer(tmp_path, str(web_store.engine.url)).start(workers=2)

    async def decide_all():
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            async def one(request_id: int, who: str, decision: str):
                answer = await http.post(f"/api/v1/approvals/{request_id}/decision", json={"decision": decision},
                                         headers={"Authorization": f"Bearer {secrets[who]}"})
                return request_id, answer.status_code

            return await asyncio.gather(*(one(r, who, d) for r in request_ids
                                          for who, d in ((DIRECTOR, "approve"), (DELEGATE, "reject"))))

    try:
        results = asyncio.run(decide_all())
    finally:
        server.stop()
    statuses: dict[int, list[int]] = {}
    for request_id, status in results:
        statuses.setdefault(request_id, []).append(status)
    assert all(sorted(s) == [200, 409] for s in statuses.values()), statuses
    assert services.verify_audit(web_store).ok
