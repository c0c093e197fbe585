"""The ``portfolio_review`` flow on the session's Prefect server records what the bare core records."""

import json
import re

import pytest

from isp_lifecycle.store.models import Base

from .conftest import outbox
from .test_cli import review_json
from .test_review import load_portfolio


def normalised_outbox(store):
    return sorted((event, recipient, re.sub(r"review-\d+", "review-N", key)) for event, recipient, key in outbox(store))


def without_ids(lines):
    """Row ids (approval requests, reviews) differ between two fillings of a PostgreSQL database."""
    return re.sub(r"approval_requests\.\d+", "approval_requests.N", json.dumps(lines))


@pytest.mark.slow
def test_the_flow_run_on_a_prefect_server_gives_the_same_results_as_the_bare_core(store, prefect_api, capsys):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    load_portfolio(store)
    with temporary_settings(updates={PREFECT_API_URL: prefect_api.url}):
        code, through_flow, err = review_json(capsys, "--chunk-size", "2")
    assert code == 0, err
    flow_messages = normalised_outbox(store)

    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    load_portfolio(store)
    code, bare, _ = review_json(capsys, "--no-prefect", "--chunk-size", "2")
    assert code == 0
    assert without_ids(through_flow) == without_ids(bare) and len(bare) == 6
    assert flow_messages == normalised_outbox(store) and flow_messages


def test_the_weekly_deployment_follows_isp_review_cron(monkeypatch):
    from isp_lifecycle.flows.review import DEFAULT_CRON, review_deployment

    monkeypatch.delenv("ISP_REVIEW_CRON", raising=False)
    assert review_deployment().schedules[0].schedule.cron == DEFAULT_CRON
    monkeypatch.setenv("ISP_REVIEW_CRON", "30 5 * * 2")
    assert review_deployment().schedules[0].schedule.cron == "30 5 * * 2"


def test_only_errors_that_can_pass_are_retried(monkeypatch, tmp_path):
    import sqlite3

    monkeypatch.setenv("ISP_HOME", str(tmp_path))  # where Prefect's home goes if this imports it first

    from sqlalchemy.exc import OperationalError, ProgrammingError

    from isp_lifecycle.flows.review import _transient

    def db_error(cls, message):
        return cls("SELECT 1", {}, sqlite3.OperationalError(message))

    assert _transient(db_error(OperationalError, "database is locked"))
    assert _transient(ConnectionResetError("reset by peer"))
    assert not _transient(db_error(OperationalError, "no such column: review_chunks.done_by"))
    assert not _transient(db_error(ProgrammingError, "syntax error"))
    assert not _transient(KeyError("stage"))
