"""The sign-in message: recorded in the outbox and sent at once, with the link kept nowhere.

``docs/spec/api.md`` ("Signing in") asks for a message "Sign in to isp-lifecycle", recorded
in the outbox and sent at once through the configured channels, whose text part holds the
link on a line of its own. What is recorded is the outbox row (event ``sign-in-link``, the
recipient, the channel, its status) with a payload that does NOT hold the link: the link is
added to the template context in memory for this one send, so the store, its backups and
``isp notifications`` listings never hold a working sign-in link.

Only the email channels (``outbox``, ``smtp``) carry it: a webhook posts to a shared room,
where a sign-in link would let anyone there sign in as the person.

The row is queued with its next attempt a day away, so the scheduled delivery (which waits
for ``next_attempt_at``) leaves it to this send; once sent it is marked ``sent``. Should a
later ``isp notifications deliver`` ever pick up a row this send could not deliver, the
template finds no link and the row fails for good: an expired link is worth nothing anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select, update

from isp_lifecycle import outbox
from isp_lifecycle.settings import Settings
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import Notification

from . import render as rendering
from .channels import DeliveryFailed, Outgoing
from .deliver import default_channels

EVENT = "sign-in-link"
HOLD_BACK = timedelta(days=1)


def send_link(store: Store, settings: Settings, email: str, secret: str, link: str, expires: datetime, *,
              now: datetime, user_templates: str | None = None) -> int:
    """Record and send the message carrying ``link`` to ``email``; return how many channels
    accepted it (0 when none could: the person asks again)."""
    channels = [c for c in settings.channels if c in outbox.EMAIL_CHANNELS]
    subject = "link-" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]
    payload = {"expires": expires.isoformat(timespec="seconds")}
    recipient = outbox.Recipient(email, None, "sign-in")
    with store.sessions.begin() as session:
        outbox.queue(session, event=EVENT, subject=subject, partnership_id=None, recipients=[recipient],
                     payload=payload, now=now, channels=channels)
        keys = [outbox.idempotency_key(EVENT, subject, email.lower(), c) for c in channels]
        session.execute(update(Notification).where(Notification.idempotency_key.in_(keys))
                        .values(next_attempt_at=now + HOLD_BACK))
        rows = session.scalars(select(Notification).where(Notification.idempotency_key.in_(keys))
                               .order_by(Notification.id)).all()
    factories = default_channels()
    sent = 0
    for row in rows:
        sent += _send(store, row, factories[row.channel], link, settings.mail_from, user_templates, now)
    return sent


def _send(store: Store, row: Notification, factory, link: str, sender: str, user_templates: str | None,
          now: datetime) -> int:
    recipient = row.payload.get("recipient")
    in_memory = {**row.payload, "link": link}
    try:
        ctx = rendering.context(EVENT, in_memory, recipient=recipient, partnership_id=None)
        rendered = rendering.render(EVENT, ctx, user_dir=user_templates or rendering.user_templates_dir())
        channel = factory()
        try:
            channel.send(Outgoing(key=row.idempotency_key, event=EVENT, recipient=row.recipient,
                                  partnership_id=None, created_at=row.created_at, rendered=rendered,
                                  payload=in_memory, sender=sender))
        finally:
            channel.close()
    except (DeliveryFailed, rendering.TemplateProblem, OSError):
        _mark(store, row.id, "failed")
        return 0
    _mark(store, row.id, "sent")
    return 1


def _mark(store: Store, row_id: int, status: str) -> None:
    with store.sessions.begin() as session:
        session.execute(update(Notification).where(Notification.id == row_id)
                        .values(status=status, attempts=Notification.attempts + 1, next_attempt_at=None))


def ask(store: Store, settings: Settings, raw_email: str, *, client: str | None, next_path: str | None = None,
        clock=None) -> None:
    """What the sign-in form does: count the request (``RateLimited`` past the limits) and, for
    someone who may sign in, send a fresh link. Returns nothing either way, so that the page
    cannot tell a known email from an unknown one."""
    from isp_lifecycle import signin
    from isp_lifecycle.services import utcnow

    clock = clock or utcnow
    made = signin.request_link(store, settings, raw_email, client=client, next_path=next_path, clock=clock)
    if made.secret is not None:
        send_link(store, settings, made.email, made.secret, signin.link_url(settings, made.secret), made.expires,
                  now=clock())
