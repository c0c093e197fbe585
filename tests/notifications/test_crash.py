"""A real delivery process killed at each point of sending (a ``hook`` passed to
``deliver_pending`` by the child process), then run again; the SMTP server in this process
counts what arrives by Message-ID."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from .helpers import CRASH_EXIT, deliverer, moved, rows

pytestmark = pytest.mark.slow  # kills and restarts delivery processes (make test runs it; make test-fast does not)


def run_delivery(crash_at: str | None, lease_seconds: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(deliverer(crash_at, lease_seconds), env=dict(os.environ), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("point, extra_copies", [
    ("before-send:4", 0),  # three sent and marked, the fourth never reached the server
    ("after-send:4", 1),  # the fourth accepted by the server, not marked: sent again, same Message-ID
    ("after-mark:4", 0),  # the fourth accepted and marked: nothing to repeat
])
def test_a_delivery_killed_and_run_again_sends_at_most_the_one_unmarked_message_twice(
    store, smtp, monkeypatch, point, extra_copies
):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    moved(store)  # 11 messages
    crashed = run_delivery(point, lease_seconds=0.5)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    accepted_before_rerun = len(smtp.messages)
    assert accepted_before_rerun == (3 if point.startswith("before") else 4)

    time.sleep(0.6)  # the dead process's lease on the rest of its batch runs out
    rerun = run_delivery(None)
    assert rerun.returncode == 0, rerun.stderr
    counts = smtp.count_by_message_id()
    assert len(counts) == 11  # every message arrived
    assert sum(counts.values()) == 11 + extra_copies
    duplicated = [mid for mid, n in counts.items() if n > 1]
    assert len(duplicated) == extra_copies
    if extra_copies:
        # the copy is the fourth message, twice with one Message-ID
        assert smtp.messages[3]["Message-ID"] == duplicated[0] == smtp.messages[4]["Message-ID"]
    assert {r.status for r in rows(store)} == {"sent"}


def test_rows_leased_by_a_killed_deliverer_wait_for_the_lease_to_run_out(store, smtp, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    moved(store)
    assert run_delivery("after-mark:2", lease_seconds=300).returncode == CRASH_EXIT
    assert run_delivery(None).returncode == 0
    # the other nine rows of the dead process's batch are still its own: nobody sent them
    assert len(smtp.messages) == 2
    assert sum(r.status == "pending" and r.lease_owner is not None for r in rows(store)) == 9
