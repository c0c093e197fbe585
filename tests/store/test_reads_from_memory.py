"""Reads answered from memory (``reading.Reading``): after any write, a long-lived service that
read the clock must answer exactly as a fresh service reading everything from the store; with
nothing written since, it must answer without the store at all; and a token revoked anywhere
must be refused by the next request that read the clock after the revocation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, text

from isp_lifecycle import services, settings, tokens
from isp_lifecycle.access import Access
from isp_lifecycle.identity import Identity
from isp_lifecycle.reading import NeedsStore
from isp_lifecycle.store.models import ApiToken

from .conftest import doc, verdict_for

AS_OF = date(2026, 11, 27)
DIRECTOR = Identity(email="kboateng@mission.example.org", method="operator-token")
LEADER = "ama.mensah@ghs.example.org"
IDS = ("mem-a", "mem-b", "mem-c")


def answers(service: Access, tick: int | None = None, memory_only: bool = False) -> dict:
    """Every read the memory path serves, as the API shows them."""
    def page(status):
        return service.approvals(DIRECTOR, status=status, after=None, limit=100, tick=tick, memory_only=memory_only)

    return {"list": service.partnerships(DIRECTOR, mission=None, stage=None, after=None, limit=100, tick=tick,
                                         memory_only=memory_only),
            "list-2": service.partnerships(DIRECTOR, mission=None, stage="commit", after="mem-a", limit=1, tick=tick,
                                           memory_only=memory_only),
            "show": [service.partnership(DIRECTOR, pid, tick=tick, memory_only=memory_only) for pid in IDS],
            "pending": page("pending"),
            "pending-after": service.approvals(DIRECTOR, status="pending", after=0, limit=1, tick=tick,
                                               memory_only=memory_only)}


def as_a_long_lived_service_answers(service: Access) -> dict:
    """The HTTP service's way: read the clock, try memory, else the same call with the store."""
    tick, _ = service.clock()
    try:
        return answers(service, tick, memory_only=True)
    except NeedsStore:
        return answers(service, tick)


def imported(store) -> None:
    for pid in IDS:
        services.import_document(store, doc(id=pid), actor=LEADER)


def evaluated(store, pid: str, passed: bool = True) -> None:
    services.evaluate_gate(store, pid, verdict_for(passed=passed), as_of=AS_OF)


def requested(store, pid: str) -> None:
    evaluated(store, pid)
    services.request_approval(store, pid, requested_by=LEADER)


WRITES = {
    "a verdict recorded": lambda store: evaluated(store, "mem-a", passed=False),
    "a request opened": lambda store: requested(store, "mem-a"),
    "a second request opened": lambda store: requested(store, "mem-b"),
    "a request rejected": lambda store: services.decide(store, "mem-a", by=DIRECTOR.email, approve=False),
    "a request approved and the stage moved": lambda store: services.decide(store, "mem-b", by=DIRECTOR.email,
                                                                            approve=True),
    "a new version of a document, its roles changed": lambda store: services.import_document(
        store, doc(id="mem-c", delegates=[]), actor=LEADER),
}


def test_a_long_lived_service_answers_every_read_as_a_fresh_one_after_each_kind_of_write(store):
    imported(store)
    service = Access(store, settings.current())
    for what, write in WRITES.items():
        as_a_long_lived_service_answers(service)  # what it keeps is from before the write
        write(store)
        assert as_a_long_lived_service_answers(service) == answers(Access(store, settings.current())), what
    assert answers(service)["pending"][0] == []  # the story's end: nothing left waiting
    assert answers(service)["show"][1]["stage"] == "implement"  # the fixture stands at commit


def test_with_nothing_written_since_it_read_them_a_service_answers_from_memory_alone(store):
    imported(store)
    requested(store, "mem-a")
    service = Access(store, settings.current())
    tick, _ = service.clock()
    with pytest.raises(NeedsStore):  # nothing kept yet
        answers(service, tick, memory_only=True)
    expected = answers(service, tick)
    assert answers(service, tick, memory_only=True) == expected
    assert expected["show"][0]["pending_request"] == expected["pending"][0][0]["id"]
    evaluated(store, "mem-c")
    with pytest.raises(NeedsStore):  # the clock moved: the snapshot must be brought up to date first
        answers(service, service.clock()[0], memory_only=True)


def test_a_token_revoked_by_another_process_is_refused_on_the_next_request_that_reads_the_clock(store):
    made = tokens.create(store, DIRECTOR.email)
    service, elsewhere = Access(store, settings.current()), Access(store, settings.current())
    _, credentials = service.clock()
    assert service.identify(made.secret, "127.0.0.1", credentials).email == DIRECTOR.email
    assert service.known(made.secret, "10.0.0.9", credentials).client == "10.0.0.9"  # kept, this request's client
    tokens.revoke(store, made.id)
    _, after = elsewhere.clock()
    assert after != credentials
    assert service.known(made.secret, "127.0.0.1", after) is None
    assert service.identify(made.secret, "127.0.0.1", after) is None
    assert service.known("isp_" + "x" * 40, "127.0.0.1", after) is None  # never checked: not known


def clock_set(store, ticks: int, hand: int) -> None:
    """As restoring a backup of the store does: the clock goes back with the rows."""
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE portfolio_clock SET ticks = :t, credentials = :h WHERE id = 1"), {"t": ticks, "h": hand})


def test_once_the_clock_has_gone_back_a_service_trusts_nothing_it_kept_against_the_old_ticks(store):
    """A backup restored under a running service takes the clock back, so ticks the service
    kept things against come to mean other writes: what it kept must be read again."""
    imported(store)
    made = tokens.create(store, DIRECTOR.email)
    service = Access(store, settings.current())
    restored_ticks, restored_hand = service.clock()  # the backup is taken here
    requested(store, "mem-a")
    tick, hand = service.clock()
    assert answers(service, tick)["show"][0]["pending_request"] is not None  # kept, at later ticks
    assert service.identify(made.secret, None, hand) is not None  # kept
    with store.engine.begin() as conn:  # the backup has no such token...
        conn.execute(delete(ApiToken).where(ApiToken.id == made.id))
    clock_set(store, restored_ticks, hand)  # ...and its clock stands behind what the service saw
    services.decide(store, "mem-a", by=DIRECTOR.email, approve=False)  # a write after the restore
    tick, hand = service.clock()
    assert service.behind(tick)
    service.catch_up()
    assert as_a_long_lived_service_answers(service) == answers(Access(store, settings.current()))
    assert service.known(made.secret, None, hand) is None and service.identify(made.secret, None, hand) is None
    assert restored_hand <= hand
