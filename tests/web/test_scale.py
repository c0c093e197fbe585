"""Two `isp web` processes on one PostgreSQL store: 50 concurrent decisions on 25 requests,
spread over both, apply exactly one decision per request."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from isp_lifecycle import approvals, services, tokens
from isp_lifecycle.document import load, validate
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import ApprovalRequest, StageTransition

from ..store.conftest import PostgresBackend
from .conftest import ADMIN, DELEGATE, DIRECTOR, FIXTURES, LEADER, WebServer

REQUESTS = 25


@pytest.fixture
def pg_store(web_store):  # web_store: the audit key and ISP_HOME of this suite
    backend = PostgresBackend()
    store = Store.open(backend.new_database())
    yield store
    store.close()
    backend.drop_all()


def _open_requests(store: Store) -> list[int]:
    data = load(FIXTURES / "gh-mnh-north.yaml").to_data()
    ids = []
    for n in range(REQUESTS):
        pid = f"gh-scale-{n:02d}"
        services.import_document(store, validate({**data, "id": pid}), actor=ADMIN)
        opened = approvals.open_request(store, pid, requested_by=LEADER, as_of=date(2026, 11, 27), engine="python")
        ids.append(opened.request_id)
    return ids


async def _decide_all(pairs):
    async with httpx.AsyncClient(timeout=120) as client:
        async def one(url, token, request_id, decision):
            response = await client.post(f"{url}/api/v1/approvals/{request_id}/decision",
                                         json={"decision": decision},
                                         headers={"Authorization": f"Bearer {token}"})
            return request_id, response.status_code

        return await asyncio.gather(*(one(*pair) for pair in pairs))


@pytest.mark.slow
def test_fifty_concurrent_decisions_over_two_processes_apply_exactly_one_per_request(pg_store, tmp_path: Path):
    request_ids = _open_requests(pg_store)
    director = tokens.create(pg_store, DIRECTOR).secret
    delegate = tokens.create(pg_store, DELEGATE).secret
    servers = [WebServer(tmp_path, str(pg_store.engine.url.render_as_string(hide_password=False))).start()
               for _ in range(2)]
    try:
        pairs = []
        for n, request_id in enumerate(request_ids):
            first, second = servers[n % 2].url, servers[(n + 1) % 2].url
            pairs += [(first, director, request_id, "approve"), (second, delegate, request_id, "reject")]
        results = asyncio.run(_decide_all(pairs))
    finally:
        for server in servers:
            server.stop()
    by_request: dict[int, list[int]] = {}
    for request_id, status in results:
        by_request.setdefault(request_id, []).append(status)
    assert all(sorted(statuses) == [200, 409] for statuses in by_request.values()), by_request
    with pg_store.sessions() as session:
        decided = session.scalars(select(ApprovalRequest).where(ApprovalRequest.id.in_(request_ids))).all()
        moves = session.scalar(select(func.count()).select_from(StageTransition))
    assert all(r.status in ("approved", "rejected") for r in decided)
    assert moves == sum(1 for r in decided if r.status == "approved")
    assert services.verify_audit(pg_store).ok
