"""Turning an outbox row into words: one Jinja2 template set per event.

Each event has a folder in ``templates/`` with ``subject.txt`` (one line), ``body.txt`` (plain
text) and ``body.html``. HTML is autoescaped (the ``<title>`` too: the bodies get the rendered
subject as ``subject``; a ``.txt`` template included into HTML would not be escaped), and every template runs with ``StrictUndefined``:
a missing value is an error, never an empty gap in a message someone acts on.

``ISP_TEMPLATES_DIR`` points at a user's folder laid out the same way; a file there replaces
the shipped one of the same name, the others stay. As soon as such a folder is configured,
every template is rendered in Jinja2's immutable sandbox, which refuses access to Python
internals (``{{ ''.__class__.__mro__ }}``) and to methods that change data. ``check`` renders
every template of every event against sample messages, so a broken or unsafe user template
is found by ``isp notifications check-templates`` rather than by a failed delivery.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError

from . import limits

from isp_lifecycle.encoding import one_line
from isp_lifecycle.outbox import EVENTS

_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")
SHIPPED = Path(__file__).with_name("templates")
PARTS = ("subject.txt", "body.txt", "body.html")

STAGE_NAMES = {
    "convene": "Convene", "commit": "Commit", "implement": "Implement", "review": "Review", "closed": "Closed",
}
# The handbook element each principle slug stands for (docs/spec/principles.md).
PRINCIPLE_NAMES = {
    "flexibility": "Flexibility",
    "resilience": "Resilience",
    "creativity": "Creative strategies",
    "productive-outcomes": "Productive outcomes",
    "shared-stake": "An issue in which every sector has a stake",
    "long-term-small-steps": "Long-term commitment, small steps",
    "sector-distinctiveness": "Maintain the distinctiveness of each sector",
    "sincere-commitment": "A sincere commitment from all partners",
    "shared-vision": "Build and maintain a vision",
    "convene-stakeholders": "Convene key stakeholders from each sector",
    "share-information": "Share information",
    "organizations-not-individuals": "Partnerships are between organizations, not individuals",
    "local-context": "Adapt to the local context",
    "local-ownership": "Local ownership",
    "mission-champion": "The mission director as champion",
    "dedicated-leaders": "Energetic, dedicated leaders",
}
ALERT_NAMES = {
    "stage-overdue": "Too long in one stage",
    "review-overdue": "A review is overdue",
    "milestone-overdue": "A milestone is overdue",
    "commitment-expiring": "A commitment is ending",
    "approval-pending": "An approval is waiting",
    "partners-concerned": "Partners are concerned",
}


class TemplateProblem(Exception):
    """A template could not be rendered (syntax, a missing value, or refused by the sandbox)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# ------------------------------------------------------------------ filters

def _as_date(value: Any) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    text = str(value)
    return datetime.fromisoformat(text.rstrip("Z")) if "T" in text else date.fromisoformat(text)


def date_words(value: Any) -> str:
    """``2026-11-27`` → ``27 November 2026``; a moment adds its UTC time of day."""
    if value is None or value == "":
        return "an unknown date"
    moment = _as_date(value)
    words = f"{moment.day} {moment:%B %Y}"
    return f"{words} at {moment:%H:%M} UTC" if isinstance(moment, datetime) else words


def stage_name(value: str) -> str:
    return STAGE_NAMES.get(value, str(value))


def principle_name(value: str) -> str:
    return PRINCIPLE_NAMES.get(value, str(value).replace("-", " ").capitalize())


def alert_name(value: str) -> str:
    return ALERT_NAMES.get(value, str(value).replace("-", " ").capitalize())


def group_by_principle(findings: list[dict]) -> list[dict]:
    """Findings grouped by principle, groups in order of their first finding (blocking first)."""
    groups: dict[str, dict] = {}
    for finding in findings:
        slug = finding.get("principle", "")
        group = groups.setdefault(slug, {"principle": slug, "name": principle_name(slug),
                                         "quote": finding.get("quote", ""), "findings": []})
        group["findings"].append(finding)
    return list(groups.values())


ROLE_PHRASES = {
    "director": "the mission director",
    "delegate": "a delegate of the mission director",
    "leader": "a leader",
    "contact": "a contact of one of the partners",
    "requester": "the person who asked for the move",
}


def role_phrase(role: str | None) -> str:
    return ROLE_PHRASES.get(role or "", "a member")


FILTERS = {
    "role_phrase": role_phrase,
    "date_words": date_words,
    "stage_name": stage_name,
    "principle_name": principle_name,
    "alert_name": alert_name,
    "by_principle": group_by_principle,
}


# ------------------------------------------------------------------ environments

def _options() -> dict[str, Any]:
    return dict(
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=8)
def environment(user_dir: str | None = None) -> jinja2.Environment:
    """The shipped templates alone (a plain environment), or a user folder over them (sandboxed)."""
    if user_dir is None:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(SHIPPED), **_options())
    else:
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(user_dir), jinja2.FileSystemLoader(SHIPPED)])
        env = limits.LimitedSandbox(loader=loader, **_options())
    env.filters.update(FILTERS)
    if user_dir is not None:
        limits.harden(env)
    return env


def user_templates_dir() -> str | None:
    from isp_lifecycle import settings

    folder = settings.current().templates_dir
    return str(folder) if folder else None


# ------------------------------------------------------------------ context and rendering

APPROVAL_EVENTS = ("approval-requested", "approval-reminder", "approval-escalated", "approval-approved",
                   "approval-rejected", "approval-comment")


def links(event: str, payload: dict[str, Any], partnership_id: str | None, web_url: str) -> dict[str, str]:
    """The pages a message leads to, under ``ISP_WEB_URL``: ``decide`` (the decision page of an
    approval request), ``partnership`` (its page), ``portfolio`` (the digest's) and ``inbox``.
    A link grants nothing by itself: the page asks the reader to sign in."""
    from urllib.parse import quote

    out = {"inbox": f"{web_url}/inbox"}
    if partnership_id:
        out["partnership"] = f"{web_url}/partnerships/{quote(str(partnership_id), safe='')}"
    request = payload.get("request")
    if event in APPROVAL_EVENTS and isinstance(request, int) and not isinstance(request, bool):
        out["decide"] = f"{web_url}/approvals/{request}"
    if event == "review-digest":
        out["portfolio"] = f"{web_url}/portfolio"
    return out


def context(
    event: str, payload: dict[str, Any], *, recipient: dict | None, partnership_id: str | None,
    web_url: str | None = None,
) -> dict[str, Any]:
    """What every template sees: ``event``, ``partnership`` (``id``, ``name``), ``recipient``
    (``email``, ``name``, ``role``; none for a webhook post), ``recipients``, ``payload`` (the
    row's JSON as queued), ``links`` (the pages it leads to, under ``web_url``, by default
    ``ISP_WEB_URL``) and, for approval events, the ``isp approve`` commands (kept for user
    templates; the shipped ones send directors to the decision page instead)."""
    pid = payload.get("partnership", partnership_id)
    if web_url is None:
        from isp_lifecycle.settings import current

        web_url = current().web_url
    ctx: dict[str, Any] = {
        "event": event,
        "partnership": {"id": pid, "name": payload.get("partnership_name") or pid},
        "recipient": recipient,
        "recipients": payload.get("recipients", [recipient] if recipient else []),
        "payload": payload,
        "commands": None,
        "links": links(event, payload, pid, web_url),
    }
    if event.startswith("approval-") and event not in ("approval-approved", "approval-rejected") and pid:
        deciding = recipient is not None and recipient.get("role") in ("director", "delegate")
        who = shlex.quote(recipient["email"]) if deciding else "YOUR-EMAIL"
        ctx["commands"] = {
            "approve": f"isp approve {shlex.quote(pid)} --as {who}",
            "reject": f'isp approve {shlex.quote(pid)} --as {who} --reject --note "why it is rejected"',
            "show": f"isp show {shlex.quote(pid)}",
        }
    return ctx


def render(event: str, ctx: dict[str, Any], *, user_dir: str | None = None) -> Rendered:
    """Render the event's subject, text and HTML; raise ``TemplateProblem`` with the reason."""
    env = environment(user_dir)
    try:
        # The subject is rendered first and given to the bodies as ``subject``: the HTML title
        # then goes through autoescaping (an included .txt template would not).
        (raw_subject,) = limits.render_parts(env, [f"{event}/subject.txt"], ctx)
        subject = one_line(raw_subject)
        text, html = limits.render_parts(env, [f"{event}/{part}" for part in PARTS[1:]], {**ctx, "subject": subject})
    except limits.LimitExceeded as exc:
        raise TemplateProblem(f"{event}: {exc}") from None
    except SecurityError as exc:
        raise TemplateProblem(f"{event}: refused by the sandbox: {exc}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"{event}: no template {exc.name}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{event}: {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except Exception as exc:  # whatever else a template does (OverflowError, RecursionError …)
        raise TemplateProblem(f"{event}: {type(exc).__name__}: {exc}") from None
    text = _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
    return Rendered(subject, text, _BLANK_RUNS.sub("\n\n", html).strip() + "\n")


def check(user_dir: str, *, shipped: bool = False) -> list[str]:
    """Every problem of the templates in ``user_dir`` (over the shipped ones): files that are
    not templates of a known event, and every event rendered against its sample messages,
    in the sandbox (``shipped``: the shipped folder itself, rendered as deliveries do)."""
    from .samples import samples

    folder = Path(user_dir)
    if not folder.is_dir():
        return [f"{user_dir}: not a folder"]
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        event, _, part = relative.partition("/")
        if event.startswith("_") and "/" not in relative:
            continue  # shared macros and layouts, checked through the templates that use them
        if event not in EVENTS or part not in PARTS:
            problems.append(f"{relative}: not a template isp uses (expected EVENT/{{{','.join(PARTS)}}}, "
                            f"EVENT one of {', '.join(EVENTS)})")
    environment.cache_clear()  # the user may have just edited the files
    for event in EVENTS:
        for name, ctx in samples(event):
            try:
                render(event, ctx, user_dir=None if shipped else user_dir)
            except TemplateProblem as exc:
                problems.append(f"{exc} (sample: {name})")
                break
    return problems
