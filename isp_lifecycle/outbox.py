"""The outbox, on the core's side: who hears about what, on which channels, and queueing it.

Recipients of each event, read from the document:

    event                 recipients
    gate-blocked          the leaders
    approval-requested    the mission director and the delegates
    approval-reminder     the mission director and the delegates
    approval-escalated    the mission director, the delegates and the leaders
    approval-approved     the requester, the leaders and the mission director
    approval-rejected     the requester, the leaders and the mission director
    approval-comment      the requester, the leaders, the mission director and the delegates
    stage-moved           every contact of every partner
    health-alert          the leaders
    review-digest         the mission director
    sign-in-link          the person who asked (named by ``notifications.signin_mail``, never a webhook)
    assessment-invitation one partner contact, invited to assess the partnership (``assessments``)
    assessment-reminder   the same contact, once, before the assessment closes

A partnership with no leaders sends the leaders' messages to its mission director. An
address named twice (in any case) is one recipient, the first role it was named in.
A requester who is not an email address (``ISP_USER`` need not be one) gets no email.

Queueing (``queue``, which ``services._Tx.notify`` calls inside the transaction of the change)
writes one row per email recipient and channel (``outbox``, ``smtp``) and one row per event
for ``webhook`` (recipient ``*``: a webhook is one post to one place, not one per reader).
Each row's ``idempotency_key`` is ``event:subject:recipient:channel``: queueing the same event
again (a replayed cause) adds nothing (a review digest's subject also names its mission and
reader, see ``occurrence``). The key is unique within one store; Message-IDs add the store's
installation id (``installation_id``) so that they are unique across stores. Rendering and
sending are in ``notifications/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from datetime import datetime
from typing import Any

from .errors import UsageError
from .limits import is_email
from .model import Partnership

DIRECTOR, DELEGATES, LEADERS, CONTACTS, REQUESTER = "director", "delegates", "leaders", "contacts", "requester"

RULES: dict[str, tuple[str, ...]] = {
    "gate-blocked": (LEADERS,),
    "approval-requested": (DIRECTOR, DELEGATES),
    "approval-reminder": (DIRECTOR, DELEGATES),
    "approval-escalated": (DIRECTOR, DELEGATES, LEADERS),
    "approval-approved": (REQUESTER, LEADERS, DIRECTOR),
    "approval-rejected": (REQUESTER, LEADERS, DIRECTOR),
    "approval-comment": (REQUESTER, LEADERS, DIRECTOR, DELEGATES),
    "stage-moved": (CONTACTS,),
    "health-alert": (LEADERS,),
    "review-digest": (DIRECTOR,),
    "sign-in-link": (),
    "assessment-invitation": (CONTACTS,),
    "assessment-reminder": (CONTACTS,),
}
EVENTS = tuple(RULES)


@dataclass(frozen=True)
class Recipient:
    """One addressee: ``role`` is how the document names them (director, delegate, leader,
    contact, requester), which templates use to say what the reader can do."""

    email: str
    name: str | None = None
    role: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {"email": self.email, "name": self.name, "role": self.role}


def _people(doc: Partnership, group: str, requester: str | None) -> list[Recipient]:
    if group == DIRECTOR:
        person = doc.mission_director
        return [Recipient(person.email, person.name, "director")] if person else []
    if group == DELEGATES:
        return [Recipient(p.email, p.name, "delegate") for p in doc.delegates]
    if group == LEADERS:
        if not doc.leaders:  # nobody leads it: the director hears instead
            return _people(doc, DIRECTOR, requester)
        return [Recipient(p.email, p.name, "leader") for p in doc.leaders]
    if group == CONTACTS:
        return [Recipient(c.email, c.name, "contact") for partner in doc.partners for c in partner.contacts]
    if group == REQUESTER:
        if not requester or not is_email(requester):
            return []
        known = {p.email.casefold(): p.name for p in [*doc.leaders, *doc.delegates, *filter(None, [doc.mission_director])]}
        return [Recipient(requester, known.get(requester.casefold()), "requester")]
    raise AssertionError(group)


def for_event(event: str, doc: Partnership, *, requester: str | None = None) -> list[Recipient]:
    """The recipients of ``event`` about ``doc``, each address once (compared case-insensitively)."""
    groups = RULES.get(event)
    if groups is None:
        raise UsageError(f"unknown notification event {event!r}: one of {', '.join(EVENTS)}")
    seen: dict[str, Recipient] = {}
    for group in groups:
        for person in _people(doc, group, requester):
            seen.setdefault(person.email.casefold(), person)
    return list(seen.values())


CHANNELS = ("outbox", "smtp", "webhook")
EMAIL_CHANNELS = ("outbox", "smtp")
EVERYONE = "*"  # the recipient of a webhook row


def configured_channels(value: str | None = None) -> list[str]:
    """``ISP_CHANNELS`` (default ``outbox``), checked: an unknown name is a usage error."""
    if value is None:
        from . import settings

        return list(settings.current().channels)
    raw = value
    chosen = list(dict.fromkeys(c.strip().lower() for c in raw.split(",") if c.strip()))
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        raise UsageError(f"ISP_CHANNELS names unknown channel(s) {', '.join(unknown)}: use {', '.join(CHANNELS)}")
    return chosen


def idempotency_key(event: str, subject: str, recipient: str, channel: str) -> str:
    return f"{event}:{subject}:{recipient}:{channel}"


def occurrence(message: Message) -> str:
    """The ``subject`` part of a row's key. A review digest is one per mission and reader, so
    its key names both: a review of every mission queues one digest per director and
    mission, and the webhook (whose rows all have recipient ``*``) posts each of them."""
    if message.event != "review-digest":
        return message.subject
    readers = sorted({(r.email if isinstance(r, Recipient) else r).casefold() for r in message.recipients})
    return f"{message.subject}:{message.payload.get('mission', '')}:{','.join(readers)}"


@dataclass(frozen=True)
class Message:
    """One event to queue: what happened (``event``), to what (``subject``: ``evaluation-12``,
    ``request-3``, …), about which partnership, for whom, with what the templates show."""

    event: str
    subject: str
    partnership_id: str | None
    recipients: list[Recipient | str]
    payload: dict[str, Any]


KEY_BATCH = 500  # idempotency keys per lookup: far below every database's parameter limit


def queue(
    session,
    *,
    event: str,
    subject: str,
    partnership_id: str | None,
    recipients: list[Recipient | str],
    payload: dict[str, Any],
    now: datetime,
    channels: list[str] | None = None,
) -> int:
    """Add the outbox rows of one event to ``session`` (the caller's transaction); return how
    many were new. The same event about the same subject is queued once per recipient and channel."""
    return queue_many(session, [Message(event, subject, partnership_id, recipients, payload)],
                      now=now, channels=channels)


def queue_many(session, messages: list[Message], *, now: datetime, channels: list[str] | None = None) -> int:
    """Queue many events in ``session`` at once; return how many rows were new.

    Rows are built for every message first, then the keys already queued are read in one
    query per ``KEY_BATCH`` keys and the new rows written in one insert: a review's chunk
    costs a handful of statements, not two per message."""
    from sqlalchemy import insert, select

    from .store.models import Notification, PartnershipRow

    for message in messages:
        if message.event not in RULES:
            raise UsageError(f"unknown notification event {message.event!r}: one of {', '.join(EVENTS)}")
    channels = configured_channels() if channels is None else channels
    unnamed = sorted({m.partnership_id for m in messages
                      if m.partnership_id is not None and "partnership_name" not in m.payload})
    names: dict[str, str] = {}
    for ids in _batches(unnamed):
        names.update(session.execute(select(PartnershipRow.id, PartnershipRow.name).where(PartnershipRow.id.in_(ids))).all())

    rows: dict[str, dict[str, Any]] = {}  # by idempotency key; the first message to claim a key wins
    for message in messages:
        people: dict[str, Recipient] = {}
        for r in message.recipients:
            person = r if isinstance(r, Recipient) else Recipient(r)
            people.setdefault(person.email.lower(), person)
        body = dict(message.payload)
        if message.partnership_id is not None and "partnership_name" not in body:
            body["partnership_name"] = names.get(message.partnership_id, message.partnership_id)
        for channel in channels:
            if channel in EMAIL_CHANNELS:
                targets = [(email, {**body, "recipient": p.as_json()}) for email, p in people.items()]
            else:
                targets = [(EVERYONE, {**body, "recipient": None,
                                       "recipients": [p.as_json() for p in people.values()]})]
            for recipient, row_payload in targets:
                key = idempotency_key(message.event, occurrence(message), recipient, channel)
                rows.setdefault(key, {
                    "partnership_id": message.partnership_id, "event": message.event, "recipient": recipient,
                    "channel": channel, "idempotency_key": key, "status": "pending", "attempts": 0,
                    "next_attempt_at": now, "payload": row_payload, "created_at": now,
                })
    for keys in _batches(list(rows)):
        for key in session.scalars(select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))):
            del rows[key]
    if rows:
        session.execute(insert(Notification), list(rows.values()))
    return len(rows)


def _batches(items: list[str]):
    for start in range(0, len(items), KEY_BATCH):
        yield items[start:start + KEY_BATCH]


def installation_id(session) -> str:
    """The store's random installation id (table ``installation``), made on first use when the
    row is missing (revision 0004 makes it; an emptied store makes a new one)."""
    import secrets

    from .store.models import Installation

    row = session.get(Installation, 1)
    if row is None:
        from datetime import timezone

        row = Installation(id=1, installation_id=secrets.token_hex(16),
                           created_at=datetime.now(timezone.utc).replace(tzinfo=None))
        session.add(row)
        session.flush()
    return row.installation_id


def listing(store, *, status: str | None = None, partnership_id: str | None = None,
            limit: int | None = None) -> list[dict[str, Any]]:
    """The queued messages (``isp notifications list``), oldest first; with ``limit`` the
    newest ``limit``. Each: id, status, attempts, next attempt, event, channel, recipient,
    partnership, queued time and the reason of the last failure."""
    from sqlalchemy import select

    from .store.models import Notification

    query = select(Notification).order_by(Notification.id.desc() if limit else Notification.id)
    if status:
        query = query.where(Notification.status == status)
    if partnership_id:
        query = query.where(Notification.partnership_id == partnership_id)
    if limit:
        query = query.limit(limit)
    with store.sessions() as session:
        rows = session.scalars(query).all()
    if limit:
        rows = list(reversed(rows))
    return [{
        "id": row.id, "status": row.status, "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat() + "Z" if row.next_attempt_at else None,
        "event": row.event, "channel": row.channel, "recipient": row.recipient,
        "partnership": row.partnership_id, "queued_at": row.created_at.isoformat() + "Z",
        "failure_reason": row.failure_reason,
    } for row in rows]
