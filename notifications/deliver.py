"""Delivering the outbox: claim pending rows under a lease, send each, then mark it.

    deliver_pending(store, now=None, respect_backoff=True, ...) -> DeliveryReport

Rows were queued in the transaction of the change that caused them (``isp_lifecycle.outbox``).
A deliverer claims a small batch of due rows in one transaction, writing its name and a lease
expiry (``lease_owner``, ``lease_until``) on them; on PostgreSQL the claim reads with
``FOR UPDATE SKIP LOCKED``, on SQLite the claim's ``BEGIN IMMEDIATE`` serialises claimers.
Another deliverer skips rows whose lease has not expired, so any number of deliverers
(processes or machines) send each row once. For each claimed row: render it, hand it to its
channel, and mark it ``sent`` in a transaction of its own. A deliverer stops sending a batch
when half its lease has gone by, gives the rest back and claims again, so it never sends a row
whose lease may have expired. A failure leaves the row ``pending`` with ``attempts`` + 1,
``next_attempt_at`` pushed back exponentially (1, 2, 4 … minutes, at most 6 hours) and the
reason in ``failure_reason``; after ``MAX_ATTEMPTS`` or a permanent failure (a template that
cannot render or breaks its limits, a 5xx SMTP reply, a 4xx webhook answer) it becomes
``failed`` until ``retry_failed`` puts it back.

The scheduled delivery respects the back-off; an explicit ``isp notifications deliver``
(``respect_backoff=False``) tries every pending row now.

What can happen on a crash: before the channel accepted a message, nothing was sent and the
row is still pending (sent once its lease expires). After acceptance and before the mark, the
row is sent again once its lease expires: the only duplicate there can be, one copy of the one
message in flight, with the same Message-ID (and, in the outbox folder, the same file name).
Leases compare wall clocks: machines delivering from one store need clocks that agree to well
within the lease (``LEASE``, 5 minutes).

Tests pass ``hook(point, row)``, called at ``before-send``, ``after-send`` (the channel has
accepted, the row is not marked) and ``after-mark``, to kill a real process at those points.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from isp_lifecycle import outbox, settings
from isp_lifecycle.services import utcnow
from isp_lifecycle.store import Store
from isp_lifecycle.store.models import Notification

from . import render as rendering
from .channels import DeliveryFailed, OutboxChannel, Outgoing, SmtpChannel, WebhookChannel

MAX_ATTEMPTS = 12
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
LEASE = timedelta(minutes=5)  # how long a claimed row is the claimer's alone
BATCH = 20  # rows claimed at a time: few claims, little left waiting if the claimer dies
HOOK_POINTS = ("before-send", "after-send", "after-mark")
REASON_CHARS = 2000

Hook = Callable[[str, Notification], None]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, capped."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # failed this run, still pending (retried later)
    failed: int = 0  # failed this run for good (status ``failed``)
    pending: int = 0  # left pending after the run, including rows not yet due or leased to others
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row id, channel, reason)

    @property
    def ok(self) -> bool:
        return self.retrying == 0 and self.failed == 0 and self.pending == 0


def default_channels() -> dict[str, Callable[[], object]]:
    """Channel factories by name; a channel is built on the first row that needs it."""
    return {"outbox": OutboxChannel, "smtp": SmtpChannel, "webhook": WebhookChannel}


def mail_from() -> str:
    return settings.current().mail_from


def deliverer_name() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()[:32]}/{os.getpid()}/{secrets.token_hex(4)}"


@dataclass
class _Run:
    """What one delivery run carries from row to row."""

    store: Store
    now: datetime
    factories: dict[str, Callable[[], object]]
    user_dir: str | None
    sender: str
    origin: str
    owner: str
    hook: Hook
    web_url: str  # read once per run: every link of the run under one ISP_WEB_URL
    report: DeliveryReport = field(default_factory=DeliveryReport)
    opened: dict[str, object] = field(default_factory=dict)
    failed_ids: list[int] = field(default_factory=list)  # not claimed again in this run


def deliver_pending(
    store: Store,
    *,
    now: datetime | None = None,
    respect_backoff: bool = True,
    channels: dict[str, Callable[[], object]] | None = None,
    limit: int | None = None,
    user_templates: str | None = None,
    lease: timedelta = LEASE,
    batch: int = BATCH,
    hook: Hook | None = None,
) -> DeliveryReport:
    """Send the pending rows (those due by ``now`` when ``respect_backoff``) that no other
    deliverer holds, and mark each. ``channels`` maps a channel name to a factory (default:
    outbox, SMTP, webhook from the settings); ``user_templates`` defaults to
    ``ISP_TEMPLATES_DIR``; ``hook`` is for tests (see the module's docstring)."""
    run = _Run(store, now or utcnow(), channels or default_channels(),
               user_templates if user_templates is not None else rendering.user_templates_dir(),
               mail_from(), _origin(store), deliverer_name(), hook or (lambda point, row: None),
               settings.current().web_url)
    handled = 0
    try:
        while limit is None or handled < limit:
            size = batch if limit is None else min(batch, limit - handled)
            claimed = time.monotonic()  # before the claim: the lease runs from no later than this
            rows = _claim(store, run.owner, run.now, respect_backoff, size, lease, run.failed_ids)
            if not rows:
                break
            for index, row in enumerate(rows):
                if time.monotonic() - claimed > lease.total_seconds() / 2:
                    _release(store, run.owner, [r.id for r in rows[index:]])
                    break
                _deliver_one(run, row)
                handled += 1
    finally:
        for channel in run.opened.values():
            channel.close()
        try:
            _release(store, run.owner, None)
        except SQLAlchemyError:  # the store is gone: what this run held frees itself when the lease runs out
            pass
    with store.sessions() as session:
        run.report.pending = session.scalar(select(func.count()).where(Notification.status == "pending"))
    return run.report


def _origin(store: Store) -> str:
    """The store's installation id; made here if missing (two deliverers may race to make it:
    the loser reads the winner's)."""
    try:
        with store.sessions.begin() as session:
            return outbox.installation_id(session)
    except IntegrityError:
        with store.sessions.begin() as session:
            return outbox.installation_id(session)


def _claim(store: Store, owner: str, now: datetime, respect_backoff: bool, size: int,
           lease: timedelta, skip: list[int]) -> list[Notification]:
    """Take up to ``size`` due rows nobody holds, in order of queueing, under a lease (not
    those of ``skip``: rows that failed in this run wait for the next)."""
    with store.sessions.begin() as session:
        wall = utcnow()
        query = (select(Notification.id)
                 .where(Notification.status == "pending",
                        or_(Notification.lease_until.is_(None), Notification.lease_until <= wall))
                 .order_by(Notification.id).limit(size))
        if respect_backoff:
            query = query.where(or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        if skip:
            query = query.where(Notification.id.not_in(skip))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(update(Notification).where(Notification.id.in_(ids))
                        .values(lease_owner=owner, lease_until=wall + lease))
        return list(session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)))


def _release(store: Store, owner: str, ids: list[int] | None) -> None:
    """Give back rows still held (all of ``owner``'s, or those of ``ids``), for anyone to take now."""
    query = update(Notification).where(Notification.lease_owner == owner, Notification.status == "pending")
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    with store.sessions.begin() as session:
        session.execute(query.values(lease_owner=None, lease_until=None))


def _channel(run: _Run, name: str):
    channel = run.opened.get(name)
    if channel is None:
        factory = run.factories.get(name)
        if factory is None:
            raise DeliveryFailed(f"no channel {name!r} (one of {', '.join(run.factories)})")
        channel = run.opened[name] = factory()
    return channel


def _deliver_one(run: _Run, row: Notification) -> None:
    """Render, send, mark: whatever goes wrong with one row is recorded on that row alone."""
    try:
        channel = _channel(run, row.channel)
        out = _outgoing(row, run)
        run.hook("before-send", row)
        channel.send(out)
    except DeliveryFailed as exc:
        _mark_failed(run, row, str(exc), exc.permanent)
        return
    except Exception as exc:  # a channel's own bug must not stop the other rows
        _mark_failed(run, row, f"{type(exc).__name__}: {exc}", False)
        return
    run.hook("after-send", row)
    _mark_sent(run.store, row.id)
    run.hook("after-mark", row)
    run.report.sent += 1


def _outgoing(row: Notification, run: _Run) -> Outgoing:
    recipient = row.payload.get("recipient")
    try:
        ctx = rendering.context(row.event, row.payload, recipient=recipient, partnership_id=row.partnership_id,
                                web_url=run.web_url)
        rendered = rendering.render(row.event, ctx, user_dir=run.user_dir)
    except rendering.TemplateProblem as exc:
        raise DeliveryFailed(f"cannot render: {exc}", permanent=True) from None
    except Exception as exc:  # whatever a template does, this message fails, the others go on
        raise DeliveryFailed(f"cannot render: {row.event}: {type(exc).__name__}: {exc}", permanent=True) from None
    return Outgoing(key=row.idempotency_key, event=row.event, recipient=row.recipient,
                    partnership_id=row.partnership_id, created_at=row.created_at, rendered=rendered,
                    payload={**row.payload, "links": ctx["links"]}, sender=run.sender, origin=run.origin)


def _mark_sent(store: Store, row_id: int) -> None:
    with store.sessions.begin() as session:
        session.execute(
            update(Notification).where(Notification.id == row_id, Notification.status == "pending")
            .values(status="sent", attempts=Notification.attempts + 1, next_attempt_at=None,
                    lease_owner=None, lease_until=None, failure_reason=None)
        )


def _mark_failed(run: _Run, row: Notification, reason: str, permanent: bool) -> None:
    attempts = row.attempts + 1
    final = permanent or attempts >= MAX_ATTEMPTS
    with run.store.sessions.begin() as session:
        session.execute(
            update(Notification).where(Notification.id == row.id, Notification.status == "pending")
            .values(status="failed" if final else "pending", attempts=attempts,
                    next_attempt_at=None if final else run.now + backoff(attempts),
                    lease_owner=None, lease_until=None, failure_reason=reason[:REASON_CHARS])
        )
    run.report.errors.append((row.id, row.channel, reason))
    run.failed_ids.append(row.id)
    if final:
        run.report.failed += 1
    else:
        run.report.retrying += 1


def retry_failed(store: Store, *, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Put failed rows (all, or those of ``ids``) back to pending, due now; return how many.
    The reason of the last failure stays until the row is sent."""
    now = now or utcnow()
    query = update(Notification).where(Notification.status == "failed")
    if ids:
        query = query.where(Notification.id.in_(ids))
    with store.sessions.begin() as session:
        return session.execute(query.values(status="pending", attempts=0, next_attempt_at=now)).rowcount
