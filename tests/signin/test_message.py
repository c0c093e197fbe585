"""The sign-in message: recorded in the outbox, sent at once, the link alone on a line, and kept nowhere else."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from isp_lifecycle import services, sessions
from isp_lifecycle.settings import Settings
from isp_lifecycle.store.models import Notification
from isp_lifecycle.notifications import signin_mail
from tests.notifications.conftest import smtp  # noqa: F401  (fixture)
from tests.store.conftest import doc, dump

DIRECTOR = "kboateng@mission.example.org"
WEB = "https://isp.mission.example.org"


def email_message(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def secret_in(link: str) -> str:
    return link.split("?t=", 1)[1]


def outbox_messages(folder):
    return [email_message(p) for p in sorted(folder.glob("*.eml"))]


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    lines = [line for line in text.splitlines() if "/auth/link" in line]
    assert len(lines) == 1 and re.fullmatch(r"https?://[^/\s]+/auth/link\?t=[A-Za-z0-9_-]{32}", lines[0]), lines
    return lines[0]


@pytest.fixture
def settings(env):
    return Settings.from_env({"ISP_WEB_URL": WEB + "/", "ISP_HOME": str(env / "home"), "ISP_CHANNELS": "outbox,webhook"})


def test_a_known_person_gets_the_link_at_once_and_the_store_keeps_no_copy(store, settings, env, clock):
    services.import_document(store, doc())
    signin_mail.ask(store, settings, "KBoateng@mission.example.org", client="10.0.0.1", clock=clock)
    [message] = outbox_messages(env / "home" / "outbox")
    assert message["Subject"] == "Sign in to isp-lifecycle" and message["To"].casefold() == DIRECTOR
    link = link_in(message)
    assert link.startswith(WEB + "/auth/link?t=")
    with store.sessions() as s:
        rows = s.scalars(select(Notification)).all()
    assert [(r.event, r.channel, r.status) for r in rows] == [("sign-in-link", "outbox", "sent")]  # never a webhook
    assert secret_in(link) not in repr(dump(store))
    started = sessions.sign_in_with_link(store, secret_in(link), client="10.0.0.1", clock=clock)
    assert started.email == DIRECTOR  # as the document writes it


def test_an_unknown_person_gets_nothing_and_the_store_only_counts_the_request(store, settings, env, clock):
    services.import_document(store, doc())
    before = dump(store)
    signin_mail.ask(store, settings, "someone@elsewhere.example.net", client="10.0.0.1", clock=clock)
    assert not (env / "home" / "outbox").exists() or outbox_messages(env / "home" / "outbox") == []
    after = dump(store)
    assert {k: v for k, v in after.items() if k != "rate_events"} == {k: v for k, v in before.items() if k != "rate_events"}


def test_the_link_also_goes_by_smtp_when_smtp_is_configured(store, env, clock, smtp):
    services.import_document(store, doc())
    settings = Settings.from_env({"ISP_WEB_URL": WEB, "ISP_HOME": str(env / "home"), "ISP_CHANNELS": "smtp"})
    signin_mail.ask(store, settings, DIRECTOR, client="10.0.0.1", clock=clock)
    [message] = smtp.messages
    assert message["Subject"] == "Sign in to isp-lifecycle" and message["To"] == DIRECTOR
    token = secret_in(link_in(message))
    assert sessions.sign_in_with_link(store, token, client=None, clock=clock).email == DIRECTOR


def test_a_link_that_cannot_be_sent_is_recorded_as_failed_and_not_kept(store, env, clock, monkeypatch):
    services.import_document(store, doc())
    settings = Settings.from_env({"ISP_WEB_URL": WEB, "ISP_HOME": str(env / "home"), "ISP_CHANNELS": "smtp"})
    monkeypatch.setenv("ISP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ISP_SMTP_PORT", "9")  # the discard port: nothing listens there
    signin_mail.ask(store, settings, DIRECTOR, client="10.0.0.1", clock=clock)
    with store.sessions() as s:
        [row] = s.scalars(select(Notification)).all()
    assert (row.channel, row.status) == ("smtp", "failed") and "link" not in row.payload


def test_the_text_part_is_plain_7bit_lines_so_the_link_reads_as_it_is_in_the_eml(store, settings, env, clock):
    services.import_document(store, doc())
    signin_mail.ask(store, settings, DIRECTOR, client="10.0.0.1", clock=clock)
    [path] = (env / "home" / "outbox").glob("*.eml")
    raw = path.read_bytes().decode("ascii").replace("\r\n", "\n")
    [link] = re.findall(r"^https://\S+$", raw, re.MULTILINE)
    assert link == link_in(email_message(path)) and "Content-Transfer-Encoding: 7bit" in raw
