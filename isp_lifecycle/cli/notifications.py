"""``isp notifications``: look at the outbox, deliver it, retry what failed, check templates.

SQLAlchemy, Jinja2 and httpx are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import os

import click

from .options import SuggestingGroup

from ..errors import UsageError
from .store import open_store

STATUSES = ("pending", "sent", "failed")


@click.group(cls=SuggestingGroup)
def notifications():
    """The outbox of notifications: list, deliver, retry, check-templates.

    \b
    Messages are queued with the change that caused them and delivered by
    `isp notifications deliver` (or by `isp serve`, on a schedule, with back-off).
    Channels and settings: ISP_CHANNELS, ISP_OUTBOX_DIR, ISP_SMTP_*, ISP_MAIL_FROM,
    ISP_WEBHOOK_URL, ISP_WEBHOOK_FORMAT, ISP_TEMPLATES_DIR (docs/notifications.md).
    """


@notifications.command("list")
@click.option("--status", type=click.Choice([*STATUSES, "all"]), default="all", show_default=True,
              help="Only the messages in this state.")
@click.option("--partnership", "partnership_id", metavar="PARTNERSHIP_ID", help="Only the messages about this partnership.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many, newest first.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
def list_(status, partnership_id, limit, fmt):
    """The queued messages: status, attempts, next attempt, event, channel, recipient, and why
    the last attempt failed."""
    from ..outbox import listing

    with open_store() as store:
        items = listing(store, status=None if status == "all" else status, partnership_id=partnership_id,
                        limit=limit)
    for item in items:
        if fmt == "json":
            click.echo(json.dumps(item))
            continue
        due = f" next {item['next_attempt_at']}" if item["status"] == "pending" and item["attempts"] else ""
        click.echo(f"#{item['id']:<6} {item['status']:<8} {item['attempts']:>2}x  {item['event']:<19} "
                   f"{item['channel']:<8} {item['recipient']}  {item['partnership'] or '-'}{due}")
        if item["failure_reason"] and item["status"] != "sent":
            click.echo(f"        {item['status']} because: {_one_line(item['failure_reason'])}")
    if fmt == "text" and not items:
        click.echo("no messages" + ("" if status == "all" else f" {status}"))


def _one_line(text: str) -> str:
    """A stored reason, shown on one line whatever it holds (a reason may quote a template)."""
    flat = " ".join(text.split())
    return "".join(c if c.isprintable() else "?" for c in flat)[:500]


def _check_settings() -> None:
    """Bad settings are bad usage (exit 2), found before anything is sent."""
    from isp_lifecycle.notifications.channels import SmtpSettings, WebhookChannel

    SmtpSettings.from_env()
    WebhookChannel()


@notifications.command()
def deliver():
    """Try every pending message now, through its channel (no back-off wait).

    Exit 0 when nothing is left pending; 1 when some could not be delivered (they stay
    pending, and are retried; a permanent failure is marked failed, see `retry`); 2 on bad
    usage (bad settings).
    """
    from isp_lifecycle.notifications.deliver import deliver_pending

    _check_settings()
    with open_store() as store:
        report = deliver_pending(store, respect_backoff=False)
    for row_id, channel, reason in report.errors:
        click.echo(f"#{row_id} ({channel}): {reason}", err=True)
    parts = [f"{report.sent} sent"]
    if report.retrying:
        parts.append(f"{report.retrying} could not be delivered and stay pending")
    if report.failed:
        parts.append(f"{report.failed} failed for good (`isp notifications retry` once fixed)")
    parts.append(f"{report.pending} pending")
    click.echo("; ".join(parts))
    if not report.ok:
        raise click.exceptions.Exit(1)


@notifications.command()
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
def retry(ids):
    """Put failed messages (all, or those named) back to pending, to be delivered next."""
    from isp_lifecycle.notifications.deliver import retry_failed

    with open_store() as store:
        count = retry_failed(store, ids=list(ids) or None)
    click.echo(f"{count} failed message(s) back to pending")


@notifications.command("check-templates")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
def check_templates(folder):
    """Render every template of every event against sample messages, sandboxed.

    FOLDER defaults to ISP_TEMPLATES_DIR (without either, the shipped templates are
    checked). Exit 0 when all render; 1 when some cannot (each problem is listed).
    """
    from isp_lifecycle.notifications import render

    folder = folder or render.user_templates_dir()
    if folder is None:
        problems = render.check(str(render.SHIPPED), shipped=True)
        where = "the shipped templates"
    else:
        if not os.path.isdir(folder):
            raise UsageError(f"{folder}: not a folder of templates")
        problems = render.check(folder)
        where = folder
    for problem in problems:
        click.echo(f"{where}: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{where}: every template of {len(render.EVENTS)} events renders")
