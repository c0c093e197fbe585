"""Putting real events in the outbox through the services, as the lifecycle would."""

from __future__ import annotations

import sys
from datetime import date, datetime

from sqlalchemy import select

from isp_lifecycle import services
from isp_lifecycle.store.models import Notification
from isp_lifecycle.notifications.samples import FINDINGS
from tests.store.conftest import doc, verdict_for

AS_OF = date(2026, 11, 27)
T0 = datetime(2026, 12, 2, 9, 30)


def clock(moment=T0):
    return lambda: moment


def blocked(store):
    """A blocked gate: one message per leader (two)."""
    services.import_document(store, doc(), clock=clock())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(passed=False, findings=FINDINGS), as_of=AS_OF, clock=clock())


def moved(store):
    """A whole move: requested (2 approvers), approved (3), stage moved (6 contacts): 11 emails, 3 events."""
    services.import_document(store, doc(), clock=clock())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF, clock=clock())
    services.request_approval(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org", clock=clock())
    services.decide(store, "gh-mnh-north", by="kboateng@mission.example.org", approve=True, clock=clock())
    services.move_stage(store, "gh-mnh-north", clock=clock())


def rows(store):
    with store.sessions() as session:
        return session.scalars(select(Notification).order_by(Notification.id)).all()


# A delivery process for the crash and lease tests: ``POINT:N`` makes its hook ``os._exit(86)``
# the N-th time delivery reaches POINT (``before-send``, ``after-send``, ``after-mark``).
CRASH_EXIT = 86
DELIVERER = """
import os, sys
from datetime import timedelta
from isp_lifecycle.store import Store
from isp_lifecycle.notifications.deliver import deliver_pending

point, _, nth = sys.argv[1].partition(":")
left = [int(nth or 0)]

def hook(where, row):
    if where == point:
        left[0] -= 1
        if left[0] == 0:
            os._exit(86)

store = Store.open(os.environ["ISP_DATABASE_URL"])
report = deliver_pending(store, respect_backoff=False, hook=hook, lease=timedelta(seconds=float(sys.argv[2])))
print(report.sent)
"""


def deliverer(crash_at: str | None = None, lease_seconds: float = 300) -> list[str]:
    """The command line of a delivery process (run it with the test's environment)."""
    return [sys.executable, "-c", DELIVERER, crash_at or "", str(lease_seconds)]
