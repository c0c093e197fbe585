"""The portfolio clock (migration 0008): what tells the service its snapshot of the portfolio
is current. Every write to a partnership row must move it, whoever writes (plain SQL too);
nothing else may; and on PostgreSQL it must not make two writers wait on each other."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import delete, insert, text, update

from isp_lifecycle import portfolio, services, settings, tokens
from isp_lifecycle.access import Access
from isp_lifecycle.identity import Identity
from isp_lifecycle.store.models import (
    ApiToken,
    ApprovalRequest,
    GateEvaluation,
    PartnershipRow,
    clock_reading,
    portfolio_changed_since,
    portfolio_ticks,
)

from .conftest import doc

NOW = datetime(2026, 11, 30, 9, 0)
ADMIN = Identity(email="admin@mission.example.org", method="operator-token")


def ticks(store) -> int:
    with store.sessions() as session:
        return portfolio_ticks(session)


def row(pid: str) -> dict:
    return {"id": pid, "name": pid, "mission": "USAID/Ghana", "stage": "convene", "stage_entered": NOW.date(),
            "current_version": 1, "row_version": 1, "created_at": NOW, "updated_at": NOW}


def test_each_insert_update_and_delete_of_a_partnership_row_moves_the_clock_sql_from_outside_isp_included(store):
    seen = [ticks(store)]
    for statement in (insert(PartnershipRow).values(**row("clock-a")),
                      update(PartnershipRow).where(PartnershipRow.id == "clock-a").values(name="renamed"),
                      delete(PartnershipRow).where(PartnershipRow.id == "clock-a")):
        with store.engine.begin() as conn:
            conn.execute(statement)
        seen.append(ticks(store))
    assert seen == sorted(set(seen)), seen  # strictly increasing: each write moved it


def test_an_import_through_the_services_moves_the_clock_and_a_token_does_not(store):
    before = ticks(store)
    services.import_document(store, doc(), actor="tester@mission.example.org")
    after_import = ticks(store)
    with store.engine.begin() as conn:
        conn.execute(insert(ApiToken).values(id="t1", secret_sha256="0" * 64, email="a@b.org", name="n",
                                             method="operator-token", created_at=NOW, expires_at=NOW))
    assert after_import > before
    assert ticks(store) == after_import


def test_a_rolled_back_write_leaves_the_clock_where_it_was(store):
    before = ticks(store)
    with store.engine.connect() as conn:
        conn.execute(insert(PartnershipRow).values(**row("clock-b")))
        conn.rollback()
    assert ticks(store) == before


def test_on_postgresql_a_transaction_moves_the_clock_once_however_many_rows_it_writes(store, backend):
    if backend.name != "postgresql":
        pytest.skip("SQLite moves it per row (one writer at a time, no deferred triggers): the order is what counts there")
    before = ticks(store)
    with store.engine.begin() as conn:
        conn.execute(insert(PartnershipRow), [row(f"clock-{n}") for n in range(50)])
        conn.execute(update(PartnershipRow).values(name="all renamed"))
    assert ticks(store) == before + 1


def test_on_postgresql_two_writers_that_cross_over_each_others_partnerships_both_commit(store, backend):
    """A writes X, B writes Y, then A writes Y (waiting for B). Were the clock moved at each write,
    B would now wait for A's lock on it while A waits for B: a deadlock. Moved at commit, B commits
    and A follows."""
    if backend.name != "postgresql":
        pytest.skip("SQLite takes its one write lock at BEGIN: two writers never interleave")
    with store.engine.begin() as conn:
        conn.execute(insert(PartnershipRow), [row("clock-x"), row("clock-y")])
    before = ticks(store)
    a, b = store.engine.connect(), store.engine.connect()
    try:
        for conn in (a, b):  # a wait that never ends fails the test instead of hanging it
            conn.execute(text("SET lock_timeout = '10s'"))
        a.execute(update(PartnershipRow).where(PartnershipRow.id == "clock-x").values(name="a"))
        b.execute(update(PartnershipRow).where(PartnershipRow.id == "clock-y").values(name="b"))
        failed: list[BaseException] = []

        def a_writes_y() -> None:
            try:
                a.execute(update(PartnershipRow).where(PartnershipRow.id == "clock-y").values(name="a"))
                a.commit()
            except BaseException as exc:  # noqa: BLE001 (reported below)
                failed.append(exc)

        waiting = threading.Thread(target=a_writes_y)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive(), "A should be waiting for B's row"
        b.commit()
        waiting.join(30)
        assert not waiting.is_alive() and not failed, failed
    finally:
        a.close()
        b.close()
    assert ticks(store) == before + 2


def test_the_log_names_every_partnership_written_since_a_tick_and_the_tick_after_it(store):
    with store.sessions() as session:
        start = portfolio_ticks(session)
    with store.engine.begin() as conn:
        conn.execute(insert(PartnershipRow), [row("clock-c"), row("clock-d")])
    with store.engine.begin() as conn:
        conn.execute(delete(PartnershipRow).where(PartnershipRow.id == "clock-c"))
    with store.sessions() as session:
        first, written = portfolio_changed_since(session, start)
        _, nothing = portfolio_changed_since(session, portfolio_ticks(session))
    assert first == start + 1
    assert written == {"clock-c", "clock-d"} and nothing == set()


def listing(service: Access) -> list[dict]:
    found, _ = service.partnerships(ADMIN, mission=None, stage=None, after=None, limit=1000)
    return found


def imported(store, *ids: str) -> None:
    for pid in ids:
        services.import_document(store, doc(id=pid), actor="tester@mission.example.org")


def staged(store, pid: str, stage: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(PartnershipRow).where(PartnershipRow.id == pid).values(stage=stage))


def removed(store, pid: str) -> None:
    """As a restore of an older copy would: the partnership and what hangs on it, in SQL."""
    with store.engine.begin() as conn:
        for table in ("gate_evaluations", "approval_requests", "stage_transitions", "document_versions"):
            conn.execute(text(f"DELETE FROM {table} WHERE partnership_id = :p"), {"p": pid})
        conn.execute(delete(PartnershipRow).where(PartnershipRow.id == pid))


def test_a_long_lived_service_lists_what_a_new_one_lists_after_writes_from_elsewhere(store, monkeypatch):
    """The service patches its snapshot from the clock's log: new, changed and removed
    partnerships, written by another connection, must all show as a fresh read shows them."""
    monkeypatch.setenv("ISP_ADMINS", ADMIN.email)
    imported(store, *(f"clock-{n}" for n in range(8)))
    service = Access(store, settings.current())
    assert len(listing(service)) == 8
    for change in (lambda: imported(store, "clock-new"), lambda: staged(store, "clock-3", "commit"),
                   lambda: removed(store, "clock-5")):
        change()
        assert listing(service) == listing(Access(store, settings.current()))
    ids = {p["id"]: p["stage"] for p in listing(service)}
    assert "clock-new" in ids and "clock-5" not in ids and ids["clock-3"] == "commit"


def test_a_service_whose_snapshot_is_older_than_the_log_reaches_reads_everything_again(store, monkeypatch):
    monkeypatch.setenv("ISP_ADMINS", ADMIN.email)
    imported(store, *(f"clock-{n}" for n in range(4)))
    service = Access(store, settings.current())
    assert len(listing(service)) == 4
    with store.engine.begin() as conn:
        conn.execute(update(PartnershipRow).where(PartnershipRow.id == "clock-1").values(stage="review"))
        conn.execute(text("DELETE FROM portfolio_changes"))  # pruned past the snapshot's tick
    assert {p["id"]: p["stage"] for p in listing(service)}["clock-1"] == "review"


def test_a_reader_that_read_the_clock_before_another_reader_refreshed_keeps_the_newer_snapshot(store, monkeypatch):
    """Under load a reader often reads the clock, then waits for the lock while another thread
    refreshes past that tick: it must take the newer snapshot, not read every partnership again
    (a full read holds up every reader) nor step the snapshot back to its older tick."""
    monkeypatch.setenv("ISP_ADMINS", ADMIN.email)
    imported(store, *(f"clock-{n}" for n in range(4)))
    service = Access(store, settings.current())
    listing(service)
    stale = ticks(store)
    staged(store, "clock-2", "commit")
    assert {p["id"]: p["stage"] for p in listing(service)}["clock-2"] == "commit"  # refreshed past `stale`
    full_reads = []
    monkeypatch.setattr(portfolio.Snapshots, "_rebuild", lambda *args: full_reads.append(args))
    clock = iter([stale])  # this reader's first look at the clock came before the write
    monkeypatch.setattr(portfolio, "portfolio_ticks", lambda session: next(clock, None) or portfolio_ticks(session))
    assert {p["id"]: p["stage"] for p in listing(service)}["clock-2"] == "commit"
    assert full_reads == []


def credentials(store) -> int:
    with store.sessions() as session:
        return clock_reading(session)[1]


def test_revoking_or_deleting_a_token_moves_the_credentials_hand_and_using_one_or_a_partnership_write_does_not(store):
    made = tokens.create(store, "ama@mission.example.org")
    other = tokens.create(store, "kofi@mission.example.org")
    seen = [credentials(store)]
    assert tokens.authenticate(store, made.secret, now=datetime(2099, 1, 1)) is None  # expired: reads, writes nothing
    with store.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == made.id).values(last_used_at=NOW))  # a use
    imported(store, "clock-credentials")
    seen.append(credentials(store))
    tokens.revoke(store, made.id)
    seen.append(credentials(store))
    with store.engine.begin() as conn:
        conn.execute(delete(ApiToken).where(ApiToken.id == other.id))
    seen.append(credentials(store))
    assert seen[0] == seen[1] < seen[2] < seen[3], seen


def test_a_request_or_an_evaluation_written_in_plain_sql_is_logged_as_a_write_of_its_partnership(store):
    """What the service keeps of a partnership's requests and verdicts is trusted until the
    log names the partnership: a write of those rows alone, by any writer, must name it."""
    imported(store, "clock-child")
    evaluation = {"partnership_id": "clock-child", "document_version": 1, "gate": "commit", "as_of": NOW.date(),
                  "passed": True, "findings": [], "rules_version": "1", "rules_digest": "d", "created_by": "sql",
                  "created_at": NOW}
    request = {"partnership_id": "clock-child", "document_version": 1, "from_stage": "commit",
               "to_stage": "implement", "requested_by": "sql", "requested_at": NOW, "status": "pending"}
    for table, values, change in ((GateEvaluation, evaluation, {"passed": False}),
                                  (ApprovalRequest, request, {"status": "rejected"})):
        for statement in (insert(table).values(id=990, **values), update(table).where(table.id == 990).values(**change),
                          delete(table).where(table.id == 990)):
            before = ticks(store)
            with store.engine.begin() as conn:
                conn.execute(statement)
            with store.sessions() as session:
                first, written = portfolio_changed_since(session, before)
            assert (first, written) == (before + 1, {"clock-child"}), (table.__tablename__, str(statement))
