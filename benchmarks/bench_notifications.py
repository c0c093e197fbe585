"""How fast the outbox renders and delivers: 10,000 messages to a local SMTP server and to the
outbox folder.

    .venv/bin/python -m benchmarks.bench_notifications [--count 10000] [--deliverers-count 2000]

Queues ``--count`` gate-blocked messages (four findings each, one recipient per row) in a
SQLite store, then times ``deliver_pending``: read the rows, render subject, text and HTML,
build the RFC 5322 message, send it, mark the row (one transaction per row, which is what
bounds a crash to one duplicate). The baselines, measured in the same run: raw ``smtplib``
sends of pre-rendered messages over one connection to the same server, and raw writes of the
same bytes to files (with the same fsync the outbox does). The ratio says what rendering and
the outbox's bookkeeping cost over the bare transport.

Concurrent deliverers: ``--deliverers-count`` messages queued in one store (SQLite, then
PostgreSQL at ``--pg``), delivered to the same SMTP server by 1 and then by 4 delivery
processes started together, each claiming rows under a lease; the time is from the first
process's start of delivery to the last one's end (imports excluded), against raw
``smtplib`` in the same run.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import tempfile
import time
from datetime import datetime
from pathlib import Path


class _Counting:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _queue(store, count: int) -> None:
    from isp_lifecycle.notifications.samples import PAYLOADS, READERS

    now = datetime(2026, 12, 2, 9, 30)
    payload = PAYLOADS["gate-blocked"]
    with store.sessions.begin() as session:
        for i in range(count):
            reader = {**READERS["gate-blocked"], "email": f"leader{i}@partner.example.org"}
            session.add(_row(i, reader, payload, now))


def _row(i, reader, payload, now):
    from isp_lifecycle.outbox import idempotency_key
    from isp_lifecycle.store.models import Notification

    return Notification(
        partnership_id=None, event="gate-blocked", recipient=reader["email"], channel="smtp",
        idempotency_key=idempotency_key("gate-blocked", f"bench-{i}", reader["email"], "smtp"),
        status="pending", attempts=0, next_attempt_at=now, payload={**payload, "recipient": reader}, created_at=now,
    )


def _deliver(folder: Path, count: int, channel: str, factories) -> float:
    from sqlalchemy import update

    from isp_lifecycle.store import Store
    from isp_lifecycle.store.models import Notification
    from isp_lifecycle.notifications.deliver import deliver_pending

    store = Store.open(f"sqlite:///{folder / f'bench-{channel}.db'}")
    try:
        _queue(store, count)
        with store.sessions.begin() as session:
            session.execute(update(Notification).values(channel=channel))
        started = time.perf_counter()
        report = deliver_pending(store, respect_backoff=False, channels=factories)
        elapsed = time.perf_counter() - started
        assert report.sent == count and report.ok, report
        return elapsed
    finally:
        store.close()


def _prerendered(count: int) -> list[tuple[str, bytes]]:
    from isp_lifecycle.notifications.channels import POLICY, Outgoing
    from isp_lifecycle.notifications.render import render
    from isp_lifecycle.notifications.samples import samples

    (_name, ctx), _ = samples("gate-blocked")
    rendered = render("gate-blocked", ctx)
    now = datetime(2026, 12, 2, 9, 30)
    out = []
    for i in range(count):
        o = Outgoing(key=f"gate-blocked:bench-{i}:x:smtp", event="gate-blocked",
                     recipient=f"leader{i}@partner.example.org", partnership_id=None, created_at=now,
                     rendered=rendered, payload={})
        out.append((o.recipient, o.email().as_bytes(policy=POLICY)))
    return out


DELIVERER = """
import json, os, sys, time
from isp_lifecycle.store import Store
from isp_lifecycle.notifications.deliver import deliver_pending
store = Store.open(os.environ["ISP_DATABASE_URL"])
started = time.time()
report = deliver_pending(store, respect_backoff=False)
print(json.dumps({"started": started, "ended": time.time(), "sent": report.sent}))
"""


def _deliverers(url: str, count: int, port: int, processes: int) -> float:
    """Seconds for ``processes`` concurrent delivery processes to send ``count`` messages."""
    import json
    import subprocess
    import sys

    from isp_lifecycle.store import Store

    store = Store.open(url)
    try:
        _queue(store, count)
    finally:
        store.close()
    env = dict(os.environ, ISP_DATABASE_URL=url, ISP_SMTP_HOST="127.0.0.1", ISP_SMTP_PORT=str(port),
               ISP_AUDIT_KEY="bench")
    running = [subprocess.Popen([sys.executable, "-c", DELIVERER], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    results = [json.loads(p.communicate(timeout=1800)[0]) for p in running]
    assert sum(r["sent"] for r in results) == count, results
    return max(r["ended"] for r in results) - min(r["started"] for r in results)


def _concurrent(count: int, port: int, pg: str | None, raw_rate: float) -> None:
    from benchmarks.bench_store import Database

    print(f"concurrent deliverers: {count} messages, leased claims, SMTP; raw smtplib {raw_rate:8.0f} msg/s")
    for backend in ["sqlite"] + (["postgresql"] if pg else []):
        for processes in (1, 4):
            database = Database(backend, pg or "")
            try:
                elapsed = _deliverers(database.url, count, port, processes)
            finally:
                database.drop()
            print(f"  {backend:<10} {processes} deliverer(s) {count / elapsed:8.0f} msg/s"
                  f"   {raw_rate / (count / elapsed):5.1f}x raw smtplib's time per message")


def main(argv=None) -> None:
    from aiosmtpd.controller import Controller

    from isp_lifecycle.notifications.channels import OutboxChannel, SmtpChannel, SmtpSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--deliverers-count", type=int, default=2_000)
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server for the concurrent run ('' to skip)")
    args = parser.parse_args(argv)
    count = args.count

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="isp-bench-notify-") as tmp:
            folder = Path(tmp)
            messages = _prerendered(count)

            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as client:
                for recipient, raw in messages:
                    client.sendmail("isp-lifecycle@localhost", [recipient], raw)
            raw_smtp = time.perf_counter() - started

            raw_dir = folder / "raw"
            raw_dir.mkdir()
            started = time.perf_counter()
            for i, (_recipient, raw) in enumerate(messages):
                with open(raw_dir / f"{i}.eml", "wb") as handle:
                    handle.write(raw)
                    handle.flush()
                    os.fsync(handle.fileno())
            raw_files = time.perf_counter() - started

            smtp = _deliver(folder, count, "smtp", {"smtp": lambda: SmtpChannel(SmtpSettings("127.0.0.1", port))})
            outbox = _deliver(folder, count, "outbox", {"outbox": lambda: OutboxChannel(folder / "outbox")})
            assert handler.count == 2 * count
            _concurrent(args.deliverers_count, port, args.pg, count / raw_smtp)
    finally:
        controller.stop()

    print(f"notifications: {count} gate-blocked messages (render + send + mark one row per transaction, SQLite)")
    for name, mine, base, base_name in (
        ("smtp  ", smtp, raw_smtp, "raw smtplib sends of pre-rendered messages"),
        ("outbox", outbox, raw_files, "raw fsynced file writes of the same bytes"),
    ):
        print(f"  {name} {count / mine:8.0f} msg/s   baseline {count / base:8.0f} msg/s ({base_name})"
              f"   ratio {mine / base:5.1f}x the baseline's time")


if __name__ == "__main__":
    main()
