"""Injection through notifications, against the real outbox folder, a real SMTP server
(aiosmtpd) and a local webhook endpoint: a hostile name or email in a partnership gives no
extra recipient, no extra header, no live script and no Slack mention.

The hostile emails and names with line breaks cannot come in any more (the intake limits
refuse them), but a version stored before the limits existed still can: these documents are
validated as stored versions are (``document.validate``), not as uploads."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from isp_lifecycle import services
from isp_lifecycle.document import validate
from isp_lifecycle.notifications.deliver import deliver_pending
from isp_lifecycle.notifications.samples import FINDINGS
from tests.notifications.conftest import smtp, webhook  # noqa: F401  (fixtures)
from tests.notifications.helpers import AS_OF, T0, clock
from tests.store.conftest import FIXTURES, backend, database_url, env, store, verdict_for  # noqa: F401

SCRIPT = "</title><script>alert(1)</script>"
MENTION = "<!here> & <!channel> <@U024BE7LH>"
HONEST = {"ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com"}
# Emails the loose model of stored versions accepts, each meant to reach another mailbox.
SMUGGLED = ["eowusu@mission.example.org\n", "x,victim@evil.example.org", "a<b>;c@evil.example.org"]
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-ISP-Event", "X-ISP-Partnership",
           "Content-Type", "MIME-Version", "Content-Transfer-Encoding"}


def stored_before_the_limits(name: str, emails: list[str]):
    """The fixture with a hostile name and leaders at the given emails, read as a stored version."""
    from isp_lifecycle.document import read_yaml

    data = read_yaml((FIXTURES / "gh-mnh-north.yaml").read_text("utf-8"))
    data["name"] = name
    leaders = data["leaders"]
    data["leaders"] = leaders + [dict(leaders[0], name=f"Leader {i}\r\nBcc: victim@evil.example.org", email=e)
                                 for i, e in enumerate(emails)]
    return validate(data)


def block_the_gate(store, document) -> None:
    services.import_document(store, document, clock=clock())
    services.evaluate_gate(store, document.id, verdict_for(passed=False, findings=FINDINGS), as_of=AS_OF,
                           clock=clock())


@pytest.mark.slow
@pytest.mark.parametrize("name", [SCRIPT, MENTION, "Tamale\r\nBcc: victim@evil.example.org\r\n\r\n<script>x</script>"])
def test_a_hostile_name_and_smuggled_emails_reach_only_their_own_mailboxes_as_text(
        name, store, env, smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ISP_CHANNELS", "outbox,smtp")
    block_the_gate(store, stored_before_the_limits(name, SMUGGLED))
    report = deliver_pending(store, now=T0)
    assert report.sent == 2 * len(HONEST)  # each honest leader, by the folder and by SMTP
    assert report.failed == 2 * len(SMUGGLED)  # each smuggled address refused, on both channels
    assert set(smtp.rcpt) == HONEST and len(smtp.rcpt) == len(HONEST)
    files = sorted((env / "home" / "outbox").glob("*.eml"))
    assert len(files) == len(HONEST)
    for raw in smtp.raw + [f.read_bytes() for f in files]:
        message = message_from_bytes(raw, policy=default_policy)
        assert set(message.keys()) <= HEADERS and len(message.keys()) == len(set(message.keys()))
        assert [a.addr_spec for a in message["To"].addresses] in ([h] for h in HONEST)
        assert "\n" not in str(message["Subject"]) and "victim" not in str(message["To"])
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "<script" not in html and "<!here>" not in html
        assert re.search(r"<title>[^<]*</title>", html)


def test_a_leader_named_with_a_line_break_gets_a_display_name_on_one_line(store, env, smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    monkeypatch.setenv("ISP_MAIL_FROM", "Mission Partnerships <isp@mission.example.org>")
    document = stored_before_the_limits("Tamale", [])
    data = document.to_data()
    data["leaders"][0]["name"] = "Ama\r\nBcc: victim@evil.example.org"
    block_the_gate(store, validate(data))
    deliver_pending(store, now=T0)
    to = [m["To"] for m in smtp.messages]
    assert '"Ama Bcc: victim@evil.example.org" <ama.mensah@ghs.example.org>' in to  # quoted: one mailbox
    assert all(len(t.addresses) == 1 for t in to) and set(smtp.rcpt) == HONEST
    assert all(m["Bcc"] is None for m in smtp.messages)
    assert {str(m["From"]) for m in smtp.messages} == {"Mission Partnerships <isp@mission.example.org>"}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "slack", "teams"])
def test_a_webhook_post_carries_no_live_script_and_no_slack_mention(fmt, store, env, webhook, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ISP_CHANNELS", "webhook")
    monkeypatch.setenv("ISP_WEBHOOK_FORMAT", fmt)
    block_the_gate(store, stored_before_the_limits(f"{SCRIPT} {MENTION} [x](javascript:alert(1))", []))
    deliver_pending(store, now=T0)
    assert len(webhook.posts) == 1
    headers, body = webhook.posts[0]
    if fmt == "json":  # data stays data (the receiver encodes it); the HTML is escaped
        assert "<script" not in body["html"]
        assert "&lt;/title&gt;&lt;script&gt;" in body["html"] and body["subject"].startswith(SCRIPT)
    elif fmt == "slack":
        texts = list(_strings(body))
        assert not any("<script" in t or "<!here>" in t or "<!channel>" in t or "<@U" in t for t in texts)
        assert body["blocks"][0]["text"]["text"].startswith("*&lt;/title&gt;&lt;script&gt;")
        assert "&lt;!here&gt; &amp; &lt;!channel&gt;" in body["text"]
    else:
        card = body["attachments"][0]["content"]
        assert card["body"][0]["text"].startswith("</title><script>alert\\(1\\)")  # text: Teams renders no HTML
        assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in card["body"][0]["text"]  # no Markdown link
        assert {"title", "value"} == set(card["body"][1]["facts"][0])


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
