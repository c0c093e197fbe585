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

A partnership with no leaders sends the leaders' messages to its mission director. An
address named twice (in any case) is one recipient, the first role it was named in.
A requester who is not an email address (``ISP_USER`` need not be one) gets no email.

Queueing (``queue``, which ``services._Tx.notify`` calls inside the transaction of the change)
writes one row per email recipient and channel (``outbox``, ``smtp``) and one row per event
for ``webhook`` (recipient ``*``: a webhook is one post to one place, not one per reader).
Each row's ``idempotency_key`` is ``event:subject:recipient:channel``: queueing the same event
again (a replayed cause) adds nothing. Rendering and sending are in ``notifications/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from datetime import datetime
from typing import Any

from .errors import UsageError
from .model import _EMAIL_RE, Partnership

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
        if not requester or not _EMAIL_RE.match(requester):
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
    import os

    raw = os.environ.get("ISP_CHANNELS", "outbox") if value is None else value
    chosen = list(dict.fromkeys(c.strip().lower() for c in raw.split(",") if c.strip()))
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        raise UsageError(f"ISP_CHANNELS names unknown channel(s) {', '.join(unknown)}: use {', '.join(CHANNELS)}")
    return chosen


def idempotency_key(event: str, subject: str, recipient: str, channel: str) -> str:
    return f"{event}:{subject}:{recipient}:{channel}"


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
                key = idempotency_key(message.event, message.subject, recipient, channel)
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
