"""Chunks of one review shared by two process workers of one work pool (a local Prefect server)."""

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from isp_lifecycle.store.models import Base, PortfolioReviewChunk

from .test_cli import review_json
from .test_flow import without_ids
from .test_review import load_portfolio

PREFECT = str(Path(sys.executable).parent / "prefect")


def stop(proc) -> None:
    """A process worker may need a second SIGTERM to stop (docs: notes on Prefect)."""
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.slow
def test_two_workers_share_the_chunks_and_the_result_equals_the_single_process_review(
    store, prefect_api, monkeypatch, capsys, tmp_path
):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    pool = f"isp-review-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PREFECT_API_URL=prefect_api.url, PREFECT_WORKER_QUERY_SECONDS="1",
               PREFECT_HOME=str(tmp_path / "prefect-home"))
    subprocess.run([PREFECT, "work-pool", "create", pool, "--type", "process"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with temporary_settings(updates={PREFECT_API_URL: prefect_api.url}):
        from isp_lifecycle.flows.review import chunk_deployment

        chunk_deployment(pool).apply()
    workers = [
        subprocess.Popen([PREFECT, "worker", "start", "--pool", pool, "--limit", "1", "--name", f"{pool}-{n}"],
                         env=env, start_new_session=True, stdout=(tmp_path / f"worker-{n}.log").open("wb"),
                         stderr=subprocess.STDOUT)
        for n in (1, 2)
    ]
    try:
        load_portfolio(store)
        monkeypatch.setenv("ISP_WORK_POOL", pool)
        with temporary_settings(updates={PREFECT_API_URL: prefect_api.url}):
            code, shared, err = review_json(capsys, "--chunk-size", "1")
        assert code == 0, err
    finally:
        for worker in workers:
            stop(worker)
    with store.sessions.begin() as session:
        done_by = session.scalars(select(PortfolioReviewChunk.done_by)).all()
    parents = [int(re.search(r"parent (\d+)", who).group(1)) for who in done_by]
    assert len(parents) == 6
    assert set(parents) == {w.pid for w in workers}, "each worker took some chunks, neither all"

    monkeypatch.delenv("ISP_WORK_POOL")
    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    load_portfolio(store)
    code, alone, _ = review_json(capsys, "--no-prefect", "--chunk-size", "1")
    assert code == 0 and without_ids(shared) == without_ids(alone)
