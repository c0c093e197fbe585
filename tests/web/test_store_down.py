"""A store that cannot be reached is 503, and 503 comes before every other answer (api.md)."""

from __future__ import annotations

import httpx

from isp_lifecycle import tokens
from isp_lifecycle.store import Store

from ..conftest import postgres_or_skip
from ..store.conftest import PostgresBackend
from .conftest import LEADER, WebServer


def test_a_store_that_went_away_answers_503_before_413_and_401(web_store, tmp_path):
    postgres_or_skip()  # a PostgreSQL store is the one that can go away while the service runs
    backend = PostgresBackend()
    url = backend.new_database()
    store = Store.open(url)
    token = tokens.create(store, LEADER).secret
    store.close()
    server = WebServer(tmp_path, url).start()
    try:
        assert httpx.get(server.url + "/api/v1/health").status_code == 200
        backend.drop_all()
        health = httpx.get(server.url + "/api/v1/health")
        assert health.status_code == 503 and health.headers["content-type"] == "application/problem+json"
        assert httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 503
        assert httpx.get(server.url + "/api/v1/me").status_code == 503  # 503 precedes 401
        too_big = httpx.put(server.url + "/api/v1/partnerships/x/document", content=b"x" * (1024 * 1024 + 1))
        assert too_big.status_code == 503
    finally:
        server.stop()
