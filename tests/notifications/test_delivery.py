from __future__ import annotations

import json
import re

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from isp_lifecycle.cli import main
from isp_lifecycle.outbox import installation_id, queue
from isp_lifecycle.store.models import Notification
from isp_lifecycle.notifications.channels import message_id
from isp_lifecycle.notifications.deliver import backoff, deliver_pending

from .helpers import T0, blocked, moved, rows


def without_ids(raw: bytes) -> bytes:
    return re.sub(rb"[0-9a-f]{64}@[a-z0-9.-]+>|=_isp_[0-9a-f]{32}", b"ID", raw)


def test_the_outbox_folder_gets_one_eml_per_message_with_the_very_bytes_smtp_sends(store, smtp, env, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "outbox,smtp")
    monkeypatch.setenv("ISP_MAIL_FROM", "isp@mission.example.org")
    moved(store)
    report = deliver_pending(store, now=T0)
    assert (report.sent, report.pending, report.ok) == (22, 0, True)
    files = sorted((env / "home" / "outbox").glob("*.eml"))
    assert len(files) == 11 == len(smtp.raw)
    # the same message but for its Message-ID (and MIME boundary), which name the row and so the channel
    assert sorted(map(without_ids, (f.read_bytes() for f in files))) == sorted(map(without_ids, smtp.raw))
    message = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert message["From"] == "isp-lifecycle <isp@mission.example.org>" and message["Auto-Submitted"] == "auto-generated"
    assert {m.get_content_type() for m in message.iter_parts()} == {"text/plain", "text/html"}


def test_each_message_id_is_derived_from_the_stores_installation_id_and_the_rows_key(store, smtp, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    monkeypatch.setenv("ISP_MAIL_FROM", "ISP <isp@Mission.Example.org>")
    blocked(store)
    deliver_pending(store, now=T0)
    keys = [row.idempotency_key for row in rows(store)]
    with store.sessions.begin() as session:
        origin = installation_id(session)
    assert sorted(smtp.count_by_message_id()) == sorted(message_id(k, origin, "isp@mission.example.org") for k in keys)
    assert all(mid.endswith("@mission.example.org>") for mid in smtp.count_by_message_id())
    assert all(m["To"].addresses[0].addr_spec in {"ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com"}
               for m in smtp.messages)


def test_with_smtp_down_messages_stay_pending_back_off_and_all_arrive_once_when_it_is_back(store, smtp, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    moved(store)
    smtp.stop()
    first = deliver_pending(store, now=T0)
    assert (first.sent, first.retrying, first.pending) == (0, 11, 11)
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows(store)} == {("pending", 1, T0 + backoff(1))}
    second = deliver_pending(store, now=T0 + timedelta(minutes=1))
    assert (second.sent, second.retrying) == (0, 11)
    assert {r.next_attempt_at for r in rows(store)} == {T0 + timedelta(minutes=1) + backoff(2)}
    # not due yet: the scheduled delivery waits, touching nothing
    waiting = deliver_pending(store, now=T0 + timedelta(minutes=2))
    assert (waiting.sent, waiting.retrying, waiting.pending) == (0, 0, 11)

    smtp.start()
    back = deliver_pending(store, now=T0 + timedelta(minutes=4))
    assert (back.sent, back.pending) == (11, 0)
    again = deliver_pending(store, now=T0 + timedelta(hours=1), respect_backoff=False)
    assert again.sent == 0
    counts = smtp.count_by_message_id()
    assert len(counts) == 11 and set(counts.values()) == {1}
    assert {(r.status, r.attempts) for r in rows(store)} == {("sent", 3)}


def test_the_backoff_doubles_from_a_minute_and_stops_growing_at_six_hours():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(30) == timedelta(hours=6)


def test_queueing_the_same_event_again_adds_no_row(store, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "outbox,webhook")
    blocked(store)
    before = [(r.idempotency_key, r.id) for r in rows(store)]
    subject = before[0][0].split(":")[1]  # evaluation-<id>
    with store.sessions.begin() as session:
        added = queue(session, event="gate-blocked", subject=subject, partnership_id="gh-mnh-north",
                      recipients=["AMA.MENSAH@ghs.example.org", "daniel.osei@tamalemobile.example.com"],
                      payload={"replayed": True}, now=T0)
    assert added == 0 and [(r.idempotency_key, r.id) for r in rows(store)] == before
    assert len(before) == 3  # two leaders by email, one webhook post


@pytest.mark.parametrize("fmt", ["json", "slack", "teams"])
def test_a_webhook_gets_one_post_per_event_in_the_chosen_format(store, webhook, monkeypatch, fmt):
    monkeypatch.setenv("ISP_CHANNELS", "outbox,webhook")
    monkeypatch.setenv("ISP_WEBHOOK_FORMAT", fmt)
    moved(store)
    report = deliver_pending(store, now=T0)
    assert report.ok and report.sent == 14  # 11 emails to the outbox folder, 3 posts
    assert len(webhook.posts) == 3
    bodies = [body for _headers, body in webhook.posts]
    if fmt == "json":
        assert [b["event"] for b in bodies] == ["approval-requested", "approval-approved", "stage-moved"]
        assert bodies[0]["recipients"] == ["kboateng@mission.example.org", "eowusu@mission.example.org"]
        assert bodies[2]["payload"]["to"] == "review" and "Review" in bodies[2]["subject"]
    elif fmt == "slack":
        assert all(b["blocks"][0]["text"]["type"] == "mrkdwn" and b["blocks"][0]["text"]["text"].startswith("*")
                   for b in bodies)
    else:
        card = bodies[0]["attachments"][0]
        assert bodies[0]["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["body"][0]["text"].endswith("from Implement to Review")
        assert {"title": "To", "value": "review"} in card["content"]["body"][1]["facts"]
    assert all(h["Idempotency-Key"] for h, _ in webhook.posts)


def test_a_webhook_server_error_is_retried_and_a_refusal_fails_until_retry(store, webhook, monkeypatch, capsys):
    monkeypatch.setenv("ISP_CHANNELS", "webhook")
    blocked(store)
    webhook.answer = 503
    assert deliver_pending(store, now=T0).retrying == 1
    webhook.answer = 404
    report = deliver_pending(store, now=T0, respect_backoff=False)
    assert report.failed == 1 and "404" in report.errors[0][2] and rows(store)[0].status == "failed"
    webhook.answer = 200
    assert main(["notifications", "retry"]) == 0 and "1 failed message(s) back to pending" in capsys.readouterr().out
    assert deliver_pending(store, now=T0).sent == 1 and len(webhook.posts) == 1


def test_isp_notifications_deliver_exits_1_while_smtp_is_down_and_0_once_all_are_sent(store, smtp, monkeypatch, capsys):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    monkeypatch.setenv("ISP_SMTP_USER", "mailer")
    monkeypatch.setenv("ISP_SMTP_PASSWORD", "s3cret-pa55")
    blocked(store)
    smtp.stop()
    assert main(["notifications", "deliver"]) == 1
    out = capsys.readouterr()
    assert "2 could not be delivered and stay pending" in out.out and "cannot reach SMTP server" in out.err
    assert main(["notifications", "list", "--status", "pending"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("gate-blocked") == 2 and "s3cret" not in listed
    assert listed.count(f"pending because: cannot reach SMTP server 127.0.0.1:{smtp.port}") == 2
    assert main(["notifications", "list", "--format", "json"]) == 0
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(i["failure_reason"].startswith("cannot reach SMTP server") for i in items)
    # an explicit deliver ignores the back-off: tried again now, not in a minute
    smtp.start()
    monkeypatch.delenv("ISP_SMTP_USER")
    assert main(["notifications", "deliver"]) == 0
    out = capsys.readouterr()
    assert "2 sent; 0 pending" in out.out and "s3cret" not in out.out + out.err
    assert len(smtp.messages) == 2


def test_credentials_the_server_will_not_take_are_never_printed(store, smtp, monkeypatch, capsys):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    monkeypatch.setenv("ISP_SMTP_USER", "mailer")
    monkeypatch.setenv("ISP_SMTP_PASSWORD", "s3cret-pa55")
    blocked(store)
    assert main(["notifications", "deliver"]) == 1
    out = capsys.readouterr()
    assert "s3cret" not in out.out + out.err and "AUTH extension not supported" in out.err


@pytest.mark.parametrize("variable, value", [("ISP_SMTP_PORT", "twenty-five"), ("ISP_SMTP_STARTTLS", "yes"),
                                             ("ISP_WEBHOOK_FORMAT", "discord")])
def test_isp_notifications_deliver_exits_2_on_bad_settings_and_sends_nothing(store, smtp, monkeypatch, capsys, variable, value):
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    blocked(store)
    monkeypatch.setenv(variable, value)
    assert main(["notifications", "deliver"]) == 2
    assert variable in capsys.readouterr().err and smtp.messages == []


def test_an_unknown_channel_in_isp_channels_refuses_the_change_that_would_queue_it(store, monkeypatch):
    from isp_lifecycle.errors import UsageError

    monkeypatch.setenv("ISP_CHANNELS", "outbox,pigeon")
    with pytest.raises(UsageError, match="pigeon"):
        blocked(store)
    with store.sessions() as session:
        assert session.scalars(select(Notification)).all() == []


def test_a_template_that_cannot_render_fails_its_message_for_good_and_retry_brings_it_back(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ISP_CHANNELS", "outbox")
    (tmp_path / "gate-blocked").mkdir()
    (tmp_path / "gate-blocked" / "subject.txt").write_text("{{ payload.no_such_field }}")
    monkeypatch.setenv("ISP_TEMPLATES_DIR", str(tmp_path))
    blocked(store)
    report = deliver_pending(store, now=T0)
    assert report.failed == 2 and "no_such_field" in report.errors[0][2]
    (tmp_path / "gate-blocked" / "subject.txt").write_text("{{ partnership.name }}: blocked")
    assert main(["notifications", "retry", str(rows(store)[0].id)]) == 0
    assert deliver_pending(store, now=T0).sent == 1
    assert [r.status for r in rows(store)] == ["sent", "failed"]
