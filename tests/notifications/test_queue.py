"""Queueing many events at once: every row once, in a handful of statements, on both stores."""

from __future__ import annotations

from sqlalchemy import event, func, select

from isp_lifecycle import outbox, services
from isp_lifecycle.outbox import KEY_BATCH, Message, Recipient, queue_many
from isp_lifecycle.store.models import Notification

from .helpers import T0, clock, rows
from .conftest import doc  # noqa: F401  (store fixtures come from tests/store)


def messages(n: int, event_name: str = "health-alert") -> list[Message]:
    return [Message(event_name, f"review-1-p{i}", "gh-mnh-north",
                    [Recipient(f"leader{i}@example.org", f"Leader {i}", "leader"), "shared@example.org"],
                    {"alerts": [{"alert": "stage-overdue", "subject": "stage"}]}) for i in range(n)]


def count_statements(store):
    seen = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_more_messages_than_one_lookup_batch_are_all_queued_once_and_a_repeat_adds_nothing(store):
    services.import_document(store, doc(), clock=clock())
    many = messages(KEY_BATCH + 7)
    with store.sessions.begin() as session:
        assert queue_many(session, many, now=T0, channels=["outbox"]) == 2 * len(many)  # two addresses each
    with store.sessions.begin() as session:
        assert queue_many(session, many, now=T0, channels=["outbox"]) == 0
    queued = rows(store)
    assert len({r.idempotency_key for r in queued}) == len(queued) == 2 * len(many)
    assert {r.payload["partnership_name"] for r in queued} == {doc().name}


def test_queueing_a_chunk_of_messages_costs_a_few_statements_not_two_per_message(store):
    services.import_document(store, doc(), clock=clock())
    statements = count_statements(store)
    with store.sessions.begin() as session:
        added = queue_many(session, messages(300), now=T0, channels=["outbox", "webhook"])
    assert added == 300 * 2 + 300  # two addresses each, and one webhook row per event
    # the partnership's name, one key lookup per KEY_BATCH keys, one insert (which a driver may split)
    lookups = [s for s in statements if "idempotency_key" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(lookups) == -(-900 // KEY_BATCH)
    assert len(statements) <= 8, statements


def test_a_key_claimed_twice_in_one_call_goes_to_the_first_message(store):
    services.import_document(store, doc(), clock=clock())
    first, second = (Message("health-alert", "review-1-x", "gh-mnh-north", ["a@example.org"], {"n": n})
                     for n in (1, 2))
    with store.sessions.begin() as session:
        assert queue_many(session, [first, second], now=T0, channels=["outbox"]) == 1
    assert [r.payload["n"] for r in rows(store)] == [1]


def test_one_event_queued_alone_or_in_a_batch_writes_the_same_rows(store):
    services.import_document(store, doc(), clock=clock())
    one = messages(1)[0]
    with store.sessions.begin() as session:
        outbox.queue(session, event=one.event, subject=one.subject, partnership_id=one.partnership_id,
                     recipients=one.recipients, payload=one.payload, now=T0, channels=["outbox", "webhook"])
    alone = [(r.idempotency_key, r.recipient, r.channel, r.payload) for r in rows(store)]
    with store.sessions.begin() as session:
        session.query(Notification).delete()
        queue_many(session, [one], now=T0, channels=["outbox", "webhook"])
    assert [(r.idempotency_key, r.recipient, r.channel, r.payload) for r in rows(store)] == alone
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 3
