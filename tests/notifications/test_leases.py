"""Any number of deliverers, one store: four real delivery processes against a real SMTP server
send 1,000 messages once each, on SQLite and PostgreSQL; killed mid-way, one of them repeats at
most the one message in its crash window, with the same Message-ID."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from isp_lifecycle.outbox import Message, queue_many
from isp_lifecycle.notifications.deliver import deliver_pending
from isp_lifecycle.notifications.samples import PAYLOADS

from .helpers import CRASH_EXIT, T0, deliverer, rows

MESSAGES = 1000


def queue_thousand(store) -> None:
    payload = PAYLOADS["gate-blocked"]
    batches = [Message("gate-blocked", f"evaluation-{n}", None,
                       [f"leader{n}-{i}@partner.example.org" for i in range(100)], payload)
               for n in range(MESSAGES // 100)]
    with store.sessions.begin() as session:
        assert queue_many(session, batches, now=T0, channels=["smtp"]) == MESSAGES


def start(crash_at: str = "", lease_seconds: float = 300) -> subprocess.Popen:
    return subprocess.Popen(deliverer(crash_at, lease_seconds), env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(processes: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    done = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        done.append((process.returncode, out, err))
    return done


@pytest.mark.slow
def test_four_deliverers_at_once_send_each_of_a_thousand_messages_exactly_once(store, smtp):
    queue_thousand(store)
    results = finish([start() for _ in range(4)])
    assert [code for code, _out, _err in results] == [0, 0, 0, 0], [err for _c, _o, err in results]
    counts = smtp.count_by_message_id()
    assert len(counts) == MESSAGES and set(counts.values()) == {1}
    sent = [int(out) for _code, out, _err in results]
    assert sum(sent) == MESSAGES
    assert sum(n > 0 for n in sent) >= 2, sent  # they did deliver side by side
    assert {r.status for r in rows(store)} == {"sent"}
    assert all(r.lease_owner is None and r.failure_reason is None for r in rows(store))


@pytest.mark.slow
def test_four_deliverers_one_killed_mid_way_repeat_at_most_the_message_in_its_crash_window(store, smtp):
    queue_thousand(store)
    lease = 6.0  # a send starts within half of it: ample on a loaded machine, short to wait out
    processes = [start("after-send:150", lease)] + [start("", lease) for _ in range(3)]
    results = finish(processes)
    assert results[0][0] == CRASH_EXIT and [code for code, _o, _e in results[1:]] == [0, 0, 0]
    time.sleep(lease)  # what the dead process still held is free again
    assert deliver_pending(store, respect_backoff=False).ok
    counts = smtp.count_by_message_id()
    assert len(counts) == MESSAGES  # every message arrived
    repeated = [mid for mid, n in counts.items() if n > 1]
    # the one message accepted and never marked went out twice, with one Message-ID; no other did
    assert len(repeated) == 1 and counts[repeated[0]] == 2
    assert sum(counts.values()) == MESSAGES + 1
    assert {r.status for r in rows(store)} == {"sent"}
