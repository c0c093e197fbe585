"""The HTTP service's reading of the store's clock (``web/clock.py``): a request's reading is
taken after it arrived; requests arriving during a reading share the next one; a request that
gives up does not spoil the others' reading; a store that cannot be read fails each request."""

from __future__ import annotations

import asyncio
import threading

import pytest

from isp_lifecycle.web.clock import Clock

from .conftest import DIRECTOR, LEADER


class SlowClock:
    """A clock whose readings wait until the test lets each go; counts them."""

    def __init__(self) -> None:
        self.taken, self.ticks = 0, 0
        self.go = threading.Semaphore(0)

    def read(self) -> tuple[int, int]:
        seen = self.ticks  # what a query sees is the store as it begins
        self.go.acquire(timeout=10)
        self.taken += 1
        return seen, 0


def test_requests_that_arrive_during_a_reading_wait_for_one_next_reading_which_sees_later_writes():
    async def scenario():
        store = SlowClock()
        clock = Clock(store.read)
        first = asyncio.ensure_future(clock.reading())
        await asyncio.sleep(0.05)  # the first reading is under way
        store.ticks = 7  # a write commits while it is
        later = [asyncio.ensure_future(clock.reading()) for _ in range(20)]
        store.go.release()
        store.go.release()
        return await first, await asyncio.gather(*later), store.taken

    first, later, taken = asyncio.run(scenario())
    assert first == (0, 0)
    assert later == [(7, 0)] * 20  # all after the write: none took the reading begun before they came
    assert taken == 2


def test_a_request_that_gives_up_leaves_the_reading_to_the_others():
    async def scenario():
        store = SlowClock()
        clock = Clock(store.read)
        leaving, staying = asyncio.ensure_future(clock.reading()), asyncio.ensure_future(clock.reading())
        await asyncio.sleep(0.05)
        leaving.cancel()
        store.go.release()
        return await staying

    assert asyncio.run(scenario()) == (0, 0)


def test_a_store_that_cannot_be_read_fails_the_requests_of_that_reading_and_the_next_is_taken_afresh():
    calls = []

    def read():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the store is down")
        return 3, 1

    async def scenario():
        clock = Clock(read)
        return await asyncio.gather(clock.reading(), clock.reading(), return_exceptions=True)

    failed, recovered = asyncio.run(scenario())  # the second came during the first reading: it waits for the next
    assert type(failed) is ConnectionError and recovered == (3, 1)


def test_work_for_one_tick_runs_once_for_every_request_waiting_on_it():
    ran = []

    async def scenario():
        clock = Clock(lambda: (0, 0))
        await asyncio.gather(*(clock.once(5, lambda: ran.append(5)) for _ in range(10)))
        await clock.once(6, lambda: ran.append(6))

    asyncio.run(scenario())
    assert ran == [5, 6]


def test_reads_served_from_memory_show_a_decision_on_the_very_next_request_over_http(as_, partnership):
    """The whole path over HTTP: the director's reads are answered from memory once warm, and
    the first read after the decision's answer already shows it (the clock read after it)."""
    leader, director = as_(LEADER), as_(DIRECTOR)
    request = leader.post(f"/api/v1/partnerships/{partnership}/advance", json={"as_of": "2026-11-27"}).json()["request"]

    def reads():
        listed = {p["id"]: p for p in director.get("/api/v1/partnerships?limit=1000").json()["partnerships"]}
        pending = [a["id"] for a in director.get("/api/v1/approvals?status=pending&limit=1000").json()["approvals"]]
        return listed[partnership], director.get(f"/api/v1/partnerships/{partnership}").json(), pending

    for _ in range(3):  # warm: kept in memory
        listed, shown, pending = reads()
        assert listed["pending_request"] == shown["pending_request"] == request["id"] and request["id"] in pending
    decided = director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"})
    assert decided.status_code == 200 and decided.json()["applied"], decided.text
    listed, shown, pending = reads()
    assert (listed["stage"], listed["pending_request"]) == (shown["stage"], shown["pending_request"]) == ("review", None)
    assert request["id"] not in pending
