"""Every ``ISP_*`` setting, read and checked once into one immutable object.

The names are frozen in ``docs/spec/cli.md`` (Configuration). ``Settings.from_env()`` reads
them all and raises one ``UsageError`` naming the variable for a bad value
(``ISP_REMIND_DAYS must be a whole number of days (0 or more), not 'x'``). Front ends read
the settings once and pass them down; nothing below them reads ``os.environ``.

Plain standard library on purpose: ``isp check`` reads no settings at all, and everything
that does pays microseconds, not the ~80 ms of importing pydantic-settings.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

CHANNELS = ("outbox", "smtp", "webhook")
WEBHOOK_FORMATS = ("slack", "teams", "json")
DEFAULT_WEB_HOST = "127.0.0.1"
DEFAULT_WEB_PORT = 8420


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw not in ("0", "1"):
        raise UsageError(f"{name} must be 0 or 1, not {raw!r}")
    return raw == "1"


def _whole(env: Mapping[str, str], name: str, default: int, *, what: str = "a whole number (0 or more)") -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(f"{name} must be {what}, not {raw!r}")
    return value


def _emails(env: Mapping[str, str], name: str) -> frozenset[str]:
    raw = env.get(name) or ""
    return frozenset(e.strip().casefold() for e in raw.split(",") if e.strip())


def _staff(env: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """``ISP_STAFF``: ``MISSION=EMAIL`` pairs, both compared case-insensitively."""
    pairs = set()
    for item in (env.get("ISP_STAFF") or "").split(","):
        if not item.strip():
            continue
        mission, sep, email = item.rpartition("=")
        if not sep or not mission.strip() or not email.strip():
            raise UsageError(f"ISP_STAFF must hold MISSION=EMAIL pairs separated by commas, not {item.strip()[:80]!r}")
        pairs.add((mission.strip().casefold(), email.strip().casefold()))
    return frozenset(pairs)


def default_user() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Settings:
    """The project's configuration; build it with ``Settings.from_env()`` (or directly, in tests)."""

    home: Path = field(default_factory=lambda: Path.home() / ".isp")
    database_url_value: str | None = None
    channels: tuple[str, ...] = ("outbox",)
    outbox_dir_value: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "isp-lifecycle@localhost"
    webhook_url: str | None = None
    webhook_format: str = "json"
    user: str = field(default_factory=default_user)
    remind_days: int = 7
    audit_key: bytes | None = field(default=None, repr=False)
    templates_dir: Path | None = None
    web_url_value: str | None = None
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    admins: frozenset[str] = frozenset()
    staff: frozenset[tuple[str, str]] = frozenset()
    assessments: bool = False
    assessment_days: int = 14
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    require_signed_in: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        channels = tuple(dict.fromkeys(c.strip().lower() for c in (env.get("ISP_CHANNELS") or "outbox").split(",")
                                       if c.strip()))
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            raise UsageError(f"ISP_CHANNELS names unknown channel(s) {', '.join(unknown)}: use {', '.join(CHANNELS)}")
        port = env.get("ISP_SMTP_PORT") or "25"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"ISP_SMTP_PORT must be a port number, not {port[:80]!r}")
        webhook_format = (env.get("ISP_WEBHOOK_FORMAT") or "json").lower()
        if webhook_format not in WEBHOOK_FORMATS:
            raise UsageError(f"ISP_WEBHOOK_FORMAT must be one of {', '.join(WEBHOOK_FORMATS)}, not {webhook_format[:80]!r}")
        key = env.get("ISP_AUDIT_KEY")
        templates = env.get("ISP_TEMPLATES_DIR")
        outbox = env.get("ISP_OUTBOX_DIR")
        return cls(
            home=Path(env.get("ISP_HOME") or Path.home() / ".isp").expanduser(),
            database_url_value=env.get("ISP_DATABASE_URL") or None,
            channels=channels or ("outbox",),
            outbox_dir_value=Path(outbox).expanduser() if outbox else None,
            smtp_host=env.get("ISP_SMTP_HOST") or "localhost",
            smtp_port=int(port),
            smtp_starttls=_flag(env, "ISP_SMTP_STARTTLS"),
            smtp_user=env.get("ISP_SMTP_USER") or None,
            smtp_password=env.get("ISP_SMTP_PASSWORD") or None,
            mail_from=env.get("ISP_MAIL_FROM") or "isp-lifecycle@localhost",
            webhook_url=env.get("ISP_WEBHOOK_URL") or None,
            webhook_format=webhook_format,
            user=env.get("ISP_USER") or default_user(),
            remind_days=_whole(env, "ISP_REMIND_DAYS", 7, what="a whole number of days (0 or more)"),
            audit_key=key.encode("utf-8") if key else None,
            templates_dir=Path(templates).expanduser() if templates else None,
            web_url_value=(env.get("ISP_WEB_URL") or "").rstrip("/") or None,
            url=(env.get("ISP_URL") or "").rstrip("/") or None,
            token=env.get("ISP_TOKEN") or None,
            admins=_emails(env, "ISP_ADMINS"),
            staff=_staff(env),
            assessments=_flag(env, "ISP_ASSESSMENTS"),
            assessment_days=_whole(env, "ISP_ASSESSMENT_DAYS", 14, what="a whole number of days (0 or more)"),
            oidc_issuer=(env.get("ISP_OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=env.get("ISP_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("ISP_OIDC_CLIENT_SECRET") or None,
            require_signed_in=_flag(env, "ISP_REQUIRE_SIGNED_IN"),
        )

    # ---------------------------------------------------------------- derived values

    @property
    def database_url(self) -> str:
        return self.database_url_value or f"sqlite:///{self.home / 'isp.db'}"

    @property
    def outbox_dir(self) -> Path:
        return self.outbox_dir_value or self.home / "outbox"

    @property
    def web_url(self) -> str:
        """``ISP_WEB_URL``, else the default address of the web service."""
        return self.web_url_value or f"http://{DEFAULT_WEB_HOST}:{DEFAULT_WEB_PORT}"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    def staff_missions(self, email: str) -> frozenset[str]:
        """The missions (case-folded) whose staff ``email`` is."""
        who = email.casefold()
        return frozenset(mission for mission, staff in self.staff if staff == who)

    def is_admin(self, email: str) -> bool:
        return email.casefold() in self.admins


def current() -> Settings:
    """The settings as the environment holds them now (front ends call this once and pass the
    result down; it is cheap, so tests that change the environment need no reset)."""
    return Settings.from_env()
