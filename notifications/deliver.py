"""Delivering the outbox: send each pending row, then mark it, one row at a time.

    deliver_pending(store, now=None, respect_backoff=True, ...) -> DeliveryReport

Rows were queued in the transaction of the change that caused them (``isp_lifecycle.outbox``).
For each pending row, in order of queueing: render it, hand it to its channel, and mark it
``sent`` in a transaction of its own. A failure leaves it ``pending`` with ``attempts`` + 1 and
``next_attempt_at`` pushed back exponentially (1, 2, 4 … minutes, at most 6 hours); after
``MAX_ATTEMPTS`` or a permanent failure (a template that cannot render, a 5xx SMTP reply, a
4xx webhook answer) it becomes ``failed`` until ``retry_failed`` puts it back.

The scheduled delivery respects the back-off; an explicit ``isp notifications deliver``
(``respect_backoff=False``) tries every pending row now.

What can happen on a crash: before the channel accepted a message, nothing was sent and the
row is still pending (it is sent by the next run). After acceptance and before the mark, the
next run sends it again: the only duplicate there can be, one copy, with the same Message-ID
(and, in the outbox folder, the same file name). Run one delivery at a time (the scheduled
flow does); two concurrent runs may both send a row before either marks it.

Test hook: ``ISP_DELIVERY_CRASH_AT=POINT[:N]`` makes the process ``os._exit(86)`` the N-th
time (default the first) it reaches POINT, one of ``before-send``, ``after-send`` (the channel
has accepted, the row is not marked) and ``after-mark``. It exists so that tests can kill a real
delivery process at exactly those points; it is read once per run and does nothing unset.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from isp_lifecycle.services import utcnow
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import Notification

from . import render as rendering
from .channels import DeliveryFailed, OutboxChannel, Outgoing, SmtpChannel, WebhookChannel

MAX_ATTEMPTS = 12
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
CRASH_POINTS = ("before-send", "after-send", "after-mark")
CRASH_EXIT = 86


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, capped."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # failed this run, still pending (retried later)
    failed: int = 0  # failed this run for good (status ``failed``)
    pending: int = 0  # left pending after the run, including rows not yet due
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row id, channel, reason)

    @property
    def ok(self) -> bool:
        return self.retrying == 0 and self.failed == 0 and self.pending == 0


class _Crash:
    def __init__(self) -> None:
        point, _, nth = (os.environ.get("ISP_DELIVERY_CRASH_AT") or "").partition(":")
        self.point = point if point in CRASH_POINTS else None
        self.left = int(nth) if nth.isdigit() else 1

    def at(self, point: str) -> None:
        if point == self.point:
            self.left -= 1
            if self.left <= 0:
                os._exit(CRASH_EXIT)


def default_channels() -> dict[str, Callable[[], object]]:
    """Channel factories by name; a channel is built on the first row that needs it."""
    return {"outbox": OutboxChannel, "smtp": SmtpChannel, "webhook": WebhookChannel}


def mail_from() -> str:
    return os.environ.get("ISP_MAIL_FROM") or "isp-lifecycle@localhost"


def deliver_pending(
    store: Store,
    *,
    now: datetime | None = None,
    respect_backoff: bool = True,
    channels: dict[str, Callable[[], object]] | None = None,
    limit: int | None = None,
    user_templates: str | None = None,
) -> DeliveryReport:
    """Send the pending rows (those due by ``now`` when ``respect_backoff``) and mark each.
    ``channels`` maps a channel name to a factory (default: outbox, SMTP, webhook from the
    environment); ``user_templates`` defaults to ``ISP_TEMPLATES_DIR``."""
    now = now or utcnow()
    factories = channels or default_channels()
    user_dir = user_templates if user_templates is not None else rendering.user_templates_dir()
    sender = mail_from()
    from isp_lifecycle.settings import current

    web_url = current().web_url  # read once per delivery run: every link of the run under one ISP_WEB_URL
    crash = _Crash()
    report = DeliveryReport()
    opened: dict[str, object] = {}

    query = select(Notification).where(Notification.status == "pending").order_by(Notification.id)
    if respect_backoff:
        query = query.where((Notification.next_attempt_at.is_(None)) | (Notification.next_attempt_at <= now))
    if limit is not None:
        query = query.limit(limit)
    with store.sessions() as session:
        rows = session.scalars(query).all()

    try:
        for row in rows:
            try:
                channel = opened.get(row.channel)
                if channel is None:
                    factory = factories.get(row.channel)
                    if factory is None:
                        raise DeliveryFailed(f"no channel {row.channel!r} (one of {', '.join(factories)})")
                    channel = opened[row.channel] = factory()
                out = _outgoing(row, sender, user_dir, web_url)
                crash.at("before-send")
                channel.send(out)
            except DeliveryFailed as exc:
                _mark_failed(store, row, now, str(exc), exc.permanent, report)
                continue
            crash.at("after-send")
            _mark_sent(store, row.id)
            crash.at("after-mark")
            report.sent += 1
    finally:
        for channel in opened.values():
            channel.close()

    with store.sessions() as session:
        from sqlalchemy import func

        report.pending = session.scalar(select(func.count()).where(Notification.status == "pending"))
    return report


def _outgoing(row: Notification, sender: str, user_dir: str | None, web_url: str) -> Outgoing:
    recipient = row.payload.get("recipient")
    ctx = rendering.context(row.event, row.payload, recipient=recipient, partnership_id=row.partnership_id,
                            web_url=web_url)
    try:
        rendered = rendering.render(row.event, ctx, user_dir=user_dir)
    except rendering.TemplateProblem as exc:
        raise DeliveryFailed(f"cannot render: {exc}", permanent=True) from None
    return Outgoing(key=row.idempotency_key, event=row.event, recipient=row.recipient,
                    partnership_id=row.partnership_id, created_at=row.created_at, rendered=rendered,
                    payload={**row.payload, "links": ctx["links"]}, sender=sender)


def _mark_sent(store: Store, row_id: int) -> None:
    with store.sessions.begin() as session:
        session.execute(
            update(Notification).where(Notification.id == row_id, Notification.status == "pending")
            .values(status="sent", attempts=Notification.attempts + 1, next_attempt_at=None)
        )


def _mark_failed(store: Store, row: Notification, now: datetime, reason: str, permanent: bool,
                 report: DeliveryReport) -> None:
    attempts = row.attempts + 1
    final = permanent or attempts >= MAX_ATTEMPTS
    with store.sessions.begin() as session:
        session.execute(
            update(Notification).where(Notification.id == row.id, Notification.status == "pending")
            .values(status="failed" if final else "pending", attempts=attempts,
                    next_attempt_at=None if final else now + backoff(attempts))
        )
    report.errors.append((row.id, row.channel, reason))
    if final:
        report.failed += 1
    else:
        report.retrying += 1


def retry_failed(store: Store, *, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Put failed rows (all, or those of ``ids``) back to pending, due now; return how many."""
    now = now or utcnow()
    query = update(Notification).where(Notification.status == "failed")
    if ids:
        query = query.where(Notification.id.in_(ids))
    with store.sessions.begin() as session:
        return session.execute(query.values(status="pending", attempts=0, next_attempt_at=now)).rowcount
