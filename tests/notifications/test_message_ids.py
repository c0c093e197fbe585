"""Messages are never merged: Message-IDs are unique across stores, and a review's digest is
one per mission and reader, on every channel."""

from __future__ import annotations

from datetime import date

from isp_lifecycle import review, services
from isp_lifecycle.store import Store
from isp_lifecycle.notifications.deliver import deliver_pending
from tests.review.conftest import variant

from .helpers import T0, blocked, rows


def test_two_stores_sending_the_same_event_to_the_same_person_use_different_message_ids(
        env, backend, smtp, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    stores = [Store.open(backend.new_database()) for _ in range(2)]  # two new stores: the same row ids
    try:
        for each in stores:
            blocked(each)  # the same partnership, the same evaluation number, the same two leaders
            assert deliver_pending(each, now=T0).sent == 2
        assert [r.idempotency_key for r in rows(stores[0])] == [r.idempotency_key for r in rows(stores[1])]
    finally:
        for each in stores:
            each.close()
    by_reader: dict[str, set[str]] = {}
    for message in smtp.messages:
        by_reader.setdefault(message["To"], set()).add(message["Message-ID"])
    assert len(by_reader) == 2 and all(len(ids) == 2 for ids in by_reader.values())


def test_a_review_of_two_missions_posts_two_digests_to_the_webhook(store, webhook, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "webhook")
    services.import_document(store, variant("gh-mnh-north"))
    services.import_document(store, variant("ke-water-kisumu"))
    review.run_review(store, date(2027, 9, 1))  # every mission at once
    deliver_pending(store, respect_backoff=False)
    digests = [body for _headers, body in webhook.posts if body["event"] == "review-digest"]
    assert sorted(d["payload"]["mission"] for d in digests) == ["USAID/Ghana", "USAID/Kenya"]
    keys = {headers["Idempotency-Key"] for headers, _body in webhook.posts}
    assert len(keys) == len(webhook.posts)  # every post its own key
    # the key is the hash of the post's Message-ID (docs/notifications.md says the same)
    assert all(body["id"] == f"<{headers['Idempotency-Key']}@localhost>" for headers, body in webhook.posts)


def test_one_person_directing_two_missions_gets_a_digest_keyed_per_mission(store, monkeypatch):
    from isp_lifecycle.outbox import Message, queue_many

    monkeypatch.setenv("ISP_CHANNELS", "outbox,webhook")
    director = "kboateng@mission.example.org"
    with store.sessions.begin() as session:
        queue_many(session, [Message("review-digest", "review-1", None, [director], {"mission": mission})
                             for mission in ("USAID/Ghana", "USAID/Kenya")], now=T0)
    keys = sorted(r.idempotency_key for r in rows(store))
    assert len(keys) == 4  # two missions, two channels
    assert all(("USAID/Ghana" in k) != ("USAID/Kenya" in k) for k in keys)


def test_a_store_upgraded_to_revision_0004_gets_its_own_installation_id(env, backend):
    from sqlalchemy import text

    from isp_lifecycle.store.engine import make_engine, upgrade

    ids = []
    for _ in range(2):
        engine = make_engine(backend.new_database())
        try:
            upgrade(engine, "0003")
            upgrade(engine)
            with engine.connect() as conn:
                ids.append(conn.execute(text("SELECT installation_id FROM installation")).scalar_one())
        finally:
            engine.dispose()
    assert len(ids[0]) == 32 and ids[0] != ids[1]


def test_one_person_directing_two_missions_gets_one_digest_email_per_mission(store, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "outbox")
    director = {"name": "Kwame Boateng", "email": "kboateng@mission.example.org"}
    services.import_document(store, variant("gh-mnh-north", mission_director=director))
    services.import_document(store, variant("ke-water-kisumu", mission_director=director))
    review.run_review(store, date(2027, 9, 1))  # every mission at once
    with store.sessions.begin() as session:
        from isp_lifecycle.store.models import Notification
        from sqlalchemy import select

        digests = session.scalars(select(Notification).where(Notification.event == "review-digest")).all()
        sent = sorted((d.recipient, d.payload["mission"], [p["partnership"] for p in d.payload["partnerships"]])
                      for d in digests)
    assert sent == [("kboateng@mission.example.org", "USAID/Ghana", ["gh-mnh-north"]),
                    ("kboateng@mission.example.org", "USAID/Kenya", ["ke-water-kisumu"])]
