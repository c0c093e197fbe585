"""Putting real events in the outbox through the services, as the lifecycle would."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from isp_lifecycle import services
from isp_lifecycle.store.models import Notification
from notifications.samples import FINDINGS
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
