"""The assessment suite runs on both store backends, with the store suite's fixtures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from isp_lifecycle import review, services
from isp_lifecycle.document import load, validate
from isp_lifecycle.identity import Identity
from isp_lifecycle.store.assessment_models import Assessment
from isp_lifecycle.store.models import AuditEntry, Notification

from ..conftest import FIXTURES
from ..store.conftest import backend, database_url, dump, env, store  # noqa: F401  (fixtures)

WEB = "https://isp.mission.example.org"
AS_OF = date(2027, 9, 1)
T0 = datetime(2027, 9, 1, 8, 0)
GHANA_CONTACTS = {"ama.mensah@ghs.example.org", "yaw.darko@ghs.example.org", "daniel.osei@tamalemobile.example.com",
                  "abena.quaye@tamalemobile.example.com", "hawa.issah@nmwa.example.org",
                  "salifu.abdulai@nmwa.example.org"}


@pytest.fixture
def enabled(env, monkeypatch):
    monkeypatch.setenv("ISP_ASSESSMENTS", "1")
    monkeypatch.setenv("ISP_WEB_URL", WEB)
    monkeypatch.delenv("ISP_ASSESSMENT_DAYS", raising=False)


def at(moment: datetime):
    return lambda: moment


def two_partnerships(store):
    """gh-mnh-north (six contacts) and a copy of it with other contacts' addresses, same mission."""
    ghana = load(FIXTURES / "gh-mnh-north.yaml")
    services.import_document(store, ghana)
    data = ghana.to_data()
    data["id"], data["name"] = "gh-copy", "A copy"
    for partner in data["partners"]:
        for contact in partner["contacts"]:
            contact["email"] = "copy." + contact["email"]
    services.import_document(store, validate(data))
    return ghana


def run(store, as_of: date = AS_OF, when: datetime = T0, **kwargs):
    return review.run_review(store, as_of, clock=at(when), **kwargs)


def contact(email: str) -> Identity:
    return Identity(email)


def count(store, query) -> int:
    with store.sessions.begin() as session:
        return session.scalar(query)


def invitations(store, review_id=None) -> list[tuple]:
    query = select(Assessment.partnership_id, Assessment.email, Assessment.sector).order_by(Assessment.id)
    if review_id is not None:
        query = query.where(Assessment.review_id == review_id)
    with store.sessions.begin() as session:
        return [tuple(r) for r in session.execute(query)]


def messages(store, event: str) -> list[tuple]:
    with store.sessions.begin() as session:
        return [tuple(r) for r in session.execute(select(Notification.recipient, Notification.payload)
                                                  .where(Notification.event == event).order_by(Notification.id))]


def audited(store, action: str) -> list[dict]:
    with store.sessions.begin() as session:
        return list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def later(days: float) -> datetime:
    return T0 + timedelta(days=days)


__all__ = ["func"]
