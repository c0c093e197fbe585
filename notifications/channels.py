"""The three ways a message leaves: an outbox folder of ``.eml`` files, SMTP, and webhooks.

Every channel has ``send(outgoing)`` and ``close()``. ``send`` returns when the message is
handed over (the file is on disk, the SMTP server accepted it, the webhook answered 2xx) and
raises ``DeliveryFailed`` otherwise, ``permanent`` when trying again cannot help (a 5xx SMTP
reply, a 4xx webhook answer) so that the row is not retried for nothing.

Settings come from the frozen environment variables (``docs/spec/cli.md``). SMTP
credentials are used for ``login`` only: they are in no message, no error and no ``repr``.

Why these libraries: the standard library's ``email`` and ``smtplib`` build and send RFC 5322
messages with STARTTLS and AUTH and need nothing installed; delivery is a sequential loop
that marks each row right after the server accepts it, so an asynchronous client
(aiosmtplib) would add a dependency without adding throughput. Webhooks use ``httpx``
(already installed, timeouts and connection reuse built in). Apprise is not used: its Slack
and Teams plugins post only to the vendors' own hosts, so they cannot be pointed at a local
endpoint, and what reaches a self-hosted relay could not be tested.
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from isp_lifecycle.encoding import card_text, mrkdwn, one_line, quote
from isp_lifecycle.limits import is_email

from .render import Rendered

POLICY = email.policy.SMTP  # CRLF line ends, RFC 5322 headers: the bytes SMTP sends


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass
class Outgoing:
    """One outbox row, rendered: what a channel needs to send it."""

    key: str
    event: str
    recipient: str  # an email address, or ``*`` for a webhook post
    partnership_id: str | None
    created_at: datetime
    rendered: Rendered
    payload: dict[str, Any]
    sender: str = "isp-lifecycle@localhost"
    origin: str = ""  # the store's installation id: part of the Message-ID
    _email: EmailMessage | None = field(default=None, repr=False)
    _bytes: bytes | None = field(default=None, repr=False)

    @property
    def message_id(self) -> str:
        return message_id(self.key, self.origin, self.sender)

    def email(self) -> EmailMessage:
        if self._email is None:
            self._email = build_email(self)
        return self._email


    def as_bytes(self) -> bytes:
        """The message as sent and as filed: built and flattened once."""
        if self._bytes is None:
            self._bytes = self.email().as_bytes(policy=POLICY)
        return self._bytes


_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def mail_domain(sender: str) -> str:
    """The right-hand side of Message-IDs: the domain of ``ISP_MAIL_FROM`` (``isp-lifecycle``
    when it has none that is a plain domain name)."""
    domain = parseaddr(sender)[1].rpartition("@")[2].strip().lower()
    return domain if domain and len(domain) <= 253 and _DOMAIN.match(domain) else "isp-lifecycle"


def message_hash(key: str, origin: str = "") -> str:
    """What identifies a message everywhere: the store's installation id and the row's key.
    Two stores (a demo, a second mission, a reset) never share it; the same row always
    gives the same hash, so the one possible duplicate is recognisable as one."""
    return hashlib.sha256(f"{origin}:{key}".encode("utf-8")).hexdigest()


def message_id(key: str, origin: str = "", sender: str = "isp-lifecycle@localhost") -> str:
    """The Message-ID of a row: ``<message_hash@domain of the sender>``."""
    return f"<{message_hash(key, origin)}@{mail_domain(sender)}>"


def build_email(out: Outgoing) -> EmailMessage:
    """An RFC 5322 message, text and HTML alternatives; its bytes depend only on the row.

    Headers are built by ``email.headerregistry`` under ``POLICY``, never by joining strings:
    addresses are ``Address`` objects with display names (quoted or encoded as needed), the
    subject is one line of text (RFC 2047 encoded and folded by the policy, which unfolds to
    the same text). A recipient that is not one dot-atom address (a comma, angle brackets, a
    line break: a stored version from before the limits) is refused, never half-parsed."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender_address(out.sender)
    msg["To"] = recipient_address(out)
    msg["Subject"] = one_line(out.rendered.subject)
    msg["Date"] = format_datetime(out.created_at.replace(tzinfo=None), usegmt=False).replace("-0000", "+0000")
    msg["Message-ID"] = out.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-ISP-Event"] = out.event
    if out.partnership_id:
        msg["X-ISP-Partnership"] = one_line(out.partnership_id)
    msg.set_content(out.rendered.text)
    msg.add_alternative(out.rendered.html, subtype="html")
    msg.set_boundary(f"=_isp_{hashlib.sha256(out.key.encode('utf-8')).hexdigest()[:32]}")
    return msg


SENDER_NAME = "isp-lifecycle"


def sender_address(sender: str) -> Address:
    """``ISP_MAIL_FROM`` as an address with a display name: its own (``Name <a@b>``) or ours."""
    from email.utils import parseaddr

    name, addr = parseaddr(sender)
    try:
        return Address(display_name=one_line(name) or SENDER_NAME, addr_spec=addr or sender)
    except (ValueError, IndexError):
        raise DeliveryFailed(f"ISP_MAIL_FROM is not one email address: {quote(sender)}", permanent=True) from None


def recipient_address(out: Outgoing) -> Address:
    """The row's one recipient, named as the document names them."""
    if not is_email(out.recipient):
        raise DeliveryFailed(f"not one email address, not sent: {quote(out.recipient)}", permanent=True)
    person = out.payload.get("recipient")
    name = person.get("name") if isinstance(person, dict) else None
    return Address(display_name=one_line(name) if isinstance(name, str) else "", addr_spec=out.recipient)


# ------------------------------------------------------------------ outbox folder

class OutboxChannel:
    """One ``.eml`` file per message, named after its Message-ID: sending the same message
    again replaces the file, so the outbox never holds a message twice. Written to a temporary
    name, flushed to disk, then renamed: a reader never sees half a message."""

    name = "outbox"

    def __init__(self, folder: Path | str | None = None) -> None:
        if folder is None:
            from isp_lifecycle import settings

            folder = settings.current().outbox_dir
        self.folder = Path(folder).expanduser()
        self._made = False

    def path_for(self, out: Outgoing) -> Path:
        digest = message_hash(out.key, out.origin)  # named after the Message-ID: a resend replaces it
        return self.folder / f"{out.created_at:%Y%m%dT%H%M%S}-{out.event}-{digest[:20]}.eml"

    def send(self, out: Outgoing) -> None:
        try:
            if not self._made:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._made = True
            target = self.path_for(out)
            temporary = target.with_suffix(".tmp")
            with open(temporary, "wb") as handle:
                handle.write(out.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write to the outbox {self.folder}: {exc.strerror or exc}") from None

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ SMTP

@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> SmtpSettings:
        """The ``ISP_SMTP_*`` settings, read and checked by ``isp_lifecycle.settings``."""
        from isp_lifecycle import settings

        current = settings.current()
        return cls(host=current.smtp_host, port=current.smtp_port, starttls=current.smtp_starttls,
                   user=current.smtp_user, password=current.smtp_password)


class SmtpChannel:
    """Sends through one SMTP connection, opened on the first message and reused."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings.from_env()
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                client.starttls(context=ssl.create_default_context())
            if s.user:
                client.login(s.user, s.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, out: Outgoing) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        for attempt in (1, 2):  # a reused connection the server dropped gets one fresh try
            try:
                if self._client is None:
                    self._client = self._connect()
                self._client.sendmail(out.sender, [out.recipient], out.as_bytes())
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 2:
                    raise DeliveryFailed(f"SMTP server {where} disconnected: {exc}") from None
            except smtplib.SMTPAuthenticationError as exc:
                self._drop()
                raise DeliveryFailed(f"SMTP server {where} refused the credentials of ISP_SMTP_USER "
                                     f"({exc.smtp_code})") from None
            except smtplib.SMTPNotSupportedError as exc:
                self._drop()
                raise DeliveryFailed(f"SMTP server {where} does not support what the settings ask ({exc}); "
                                     "check ISP_SMTP_STARTTLS and ISP_SMTP_USER") from None
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise DeliveryFailed(f"SMTP server {where} refused {out.recipient}: {code} {_text(reply)}",
                                     permanent=500 <= code < 600) from None
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise DeliveryFailed(f"SMTP server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                     permanent=500 <= exc.smtp_code < 600) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise DeliveryFailed(f"cannot reach SMTP server {where}: {exc}") from None

    def _reset(self) -> None:
        try:
            if self._client is not None:
                self._client.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# ------------------------------------------------------------------ webhooks

WEBHOOK_FORMATS = ("json", "slack", "teams")


def webhook_body(out: Outgoing, fmt: str) -> dict[str, Any]:
    """The JSON posted: ``slack`` (an incoming-webhook message of Block Kit sections in mrkdwn),
    ``teams`` (an Adaptive Card message, what Teams workflows' "post to a channel" webhook
    takes), or ``json``: the message as a plain object (its ``html`` autoescaped)."""
    if fmt == "slack":
        return slack_body(out)
    if fmt == "teams":
        return teams_body(out)
    r = out.rendered
    return {
        "id": out.message_id,
        "event": out.event,
        "partnership": out.partnership_id,
        "subject": r.subject,
        "text": r.text,
        "html": r.html,
        "recipients": [p["email"] for p in out.payload.get("recipients", [])],
        "payload": {k: v for k, v in out.payload.items() if k not in ("recipient", "recipients")},
        "queued_at": out.created_at.isoformat() + "Z",
    }


SLACK_SECTION = 3000  # characters of text in one Block Kit section
SLACK_BLOCKS = 50


# The page a message leads to, most specific first: an approval's decision page, the digest's
# portfolio, the partnership's page (``render.links``, added to the payload at delivery).
PAGES = ("decide", "portfolio", "partnership")


def link(out: Outgoing) -> str | None:
    """The page the message is about, when the row carries one (an http(s) URL, nothing else):
    ``link`` if set, else the most specific of ``links``."""
    pages = out.payload.get("links")
    pages = pages if isinstance(pages, dict) else {}
    for url in (out.payload.get("link"), *(pages.get(name) for name in PAGES)):
        if isinstance(url, str) and url.startswith(("https://", "http://")) and is_one_line(url):
            return url
    return None


def is_one_line(text: str) -> bool:
    return one_line(text) == text


def slack_body(out: Outgoing) -> dict[str, Any]:
    """Every piece of text mrkdwn-escaped (``&``, ``<``, ``>``): a ``<!here>`` in a name stays
    text and mentions nobody. ``text`` is the notification fallback; ``blocks`` the message."""
    r = out.rendered
    subject, body = mrkdwn(r.subject), mrkdwn(r.text.strip())
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{subject}*"}}]
    for start in range(0, len(body), SLACK_SECTION):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[start:start + SLACK_SECTION]}})
    blocks = blocks[:SLACK_BLOCKS - 1]
    url = link(out)
    if url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": url}]})
    return {"text": subject, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def teams_body(out: Outgoing) -> dict[str, Any]:
    """An Adaptive Card: the subject as its title, the facts of the event, the text, and an
    ``Action.OpenUrl`` when there is a page to open. Card Markdown in the text is escaped."""
    r = out.rendered
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": card_text(r.subject), "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "FactSet", "facts": facts(out)},
            {"type": "TextBlock", "text": card_text(r.text.strip()), "wrap": True},
        ],
    }
    url = link(out)
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": url}]
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


def facts(out: Outgoing) -> list[dict[str, str]]:
    """Title/value pairs of what the message is about, each value one escaped line."""
    p = out.payload
    pairs = [("Event", out.event), ("Partnership", p.get("partnership_name") or out.partnership_id),
             ("From", p.get("from")), ("To", p.get("to")), ("Gate", p.get("gate")), ("As of", p.get("as_of"))]
    return [{"title": title, "value": card_text(one_line(str(value)))} for title, value in pairs if value]


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str | None = None, fmt: str | None = None, *, timeout: float = 10.0) -> None:
        from isp_lifecycle.errors import UsageError

        self.url = url if url is not None else os.environ.get("ISP_WEBHOOK_URL") or None
        self.format = (fmt or os.environ.get("ISP_WEBHOOK_FORMAT") or "json").lower()
        if self.format not in WEBHOOK_FORMATS:
            raise UsageError(f"ISP_WEBHOOK_FORMAT must be one of {', '.join(WEBHOOK_FORMATS)}, not {self.format!r}")
        self.timeout = timeout
        self._client = None

    def send(self, out: Outgoing) -> None:
        import httpx

        if not self.url:
            raise DeliveryFailed("ISP_WEBHOOK_URL is not set: the webhook channel has nowhere to post")
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        headers = {"Idempotency-Key": message_hash(out.key, out.origin), "X-ISP-Event": out.event}
        try:
            answer = self._client.post(self.url, json=webhook_body(out, self.format), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"cannot post to the webhook: {type(exc).__name__}: {exc}") from None
        if answer.is_success:
            return
        code = answer.status_code
        raise DeliveryFailed(f"the webhook answered {code} {answer.reason_phrase}",
                             permanent=400 <= code < 500 and code not in (408, 425, 429))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
