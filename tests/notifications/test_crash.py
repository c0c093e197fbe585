"""A real delivery process killed at each point of sending (the ``ISP_DELIVERY_CRASH_AT`` test
hook of ``notifications/deliver.py``), then run again; the SMTP server in this process counts
what arrives by Message-ID."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from notifications.deliver import CRASH_EXIT

from .helpers import moved, rows

CHILD = (
    "from isp_lifecycle.store import Store\n"
    "from notifications.deliver import deliver_pending\n"
    "import os\n"
    "store = Store.open(os.environ['ISP_DATABASE_URL'])\n"
    "report = deliver_pending(store, respect_backoff=False)\n"
    "print(report.sent)\n"
)


def run_delivery(crash_at: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("ISP_DELIVERY_CRASH_AT", None)
    if crash_at:
        env["ISP_DELIVERY_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)


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
    crashed = run_delivery(point)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    accepted_before_rerun = len(smtp.messages)
    assert accepted_before_rerun == (3 if point.startswith("before") else 4)

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
