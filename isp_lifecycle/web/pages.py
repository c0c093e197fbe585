"""The people's pages: "Waiting on you", the decision page and the portfolio (server-rendered,
no script). The partnership page is ``pages_partnership``.

HTTP only: every answer comes from the read views (``inbox``, ``decision``) and every change
from ``access.Access`` (``request.app.state.access``), as for the JSON API. Who is asking is
the sign-in layer's (``web.sessions``): a page asked for without a session redirects (303) to
the sign-in page and comes back afterwards; a form post without the session's ``csrf_token``
is refused (403) before anything runs. The layout (``base.html``) is the sign-in pages' own.

The security headers of ``docs/spec/api.md`` ("Pages") are the app's ``guard``: a CSP that
allows nothing inline and nothing from another origin, and no framing.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import access, authz, decision, inbox
from .. import portfolio_page as portfolio
from ..errors import RefusedOperation, UnknownPartnership, UsageError
from ..services import utcnow
from . import sessions as web_sessions

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
router = APIRouter(include_in_schema=False)


def _environment() -> jinja2.Environment:
    from isp_lifecycle.notifications.render import FILTERS  # the same words as the messages: dates, stages, principles

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=jinja2.select_autoescape(("html",)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["days"] = lambda n: "today" if n < 1 else ("1 day" if n == 1 else f"{n} days")
    return env


_env = _environment()


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    who = web_sessions.person(request)
    html = _env.get_template(template).render(
        person=who, csrf=web_sessions.csrf_of(request) if who else "", path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def message(request: Request, status: int, heading: str, *lines: str) -> HTMLResponse:
    return render(request, "message.html", status, heading=heading, lines=list(lines), again=False)


def _not_found(request: Request) -> HTMLResponse:
    return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request):
    identity = web_sessions.page_person(request)
    service, now = request.app.state.access, utcnow()
    days = service.settings.remind_days
    return render(request, "inbox.html", title="Waiting on you", remind_days=days,
                  waiting=inbox.waiting_on(service.store, identity.email, now=now, remind_days=days),
                  mine=inbox.in_flight(service.store, identity.email, now=now, remind_days=days))


@router.get("/approvals/{request_id}", response_class=HTMLResponse)
def decision_page(request: Request, request_id: int):
    identity = web_sessions.page_person(request)
    service = request.app.state.access
    try:
        seen = decision.view(service.store, service.settings, identity.email, request_id, now=utcnow())
    except UnknownPartnership:
        return _not_found(request)
    return render(request, "decision.html", title=f"Decide: {seen['partnership']['name']}", **seen)


@router.post("/approvals/{request_id}", response_class=HTMLResponse)
async def decide(request: Request, request_id: int):
    identity, fields = await web_sessions.form_person(request)  # 303 to sign in; 403 without csrf_token
    choice, note = fields.get("decision", ""), fields.get("note", "")
    if choice not in ("approve", "reject"):
        return message(request, 400, "Choose Approve or Reject",
                       "The form came without a decision: press Approve or Reject.")
    if len(note) > access.NOTE_LIMIT:
        return message(request, 422, "The note is too long",
                       f"A note holds at most {access.NOTE_LIMIT} characters; this one has {len(note)}.")
    service = request.app.state.access
    try:
        await to_thread.run_sync(lambda: service.decide(identity, request_id, approve=choice == "approve",
                                                        note=note.strip() or None))
    except (access.NotFound, UnknownPartnership):
        return _not_found(request)
    except authz.Forbidden as exc:
        return message(request, 403, "You may not decide this request", str(exc))
    except RefusedOperation as exc:  # already decided, or stale
        return message(request, 409, "This request cannot be decided now", str(exc))
    return RedirectResponse(f"/approvals/{request_id}", status_code=303)


@router.post("/approvals/{request_id}/comments", response_class=HTMLResponse)
async def add_comment(request: Request, request_id: int):
    identity, fields = await web_sessions.form_person(request)
    service = request.app.state.access
    try:
        await to_thread.run_sync(lambda: decision.comment(service.store, service.settings, identity, request_id,
                                                          fields.get("comment", "")))
    except UnknownPartnership:
        return _not_found(request)
    except authz.Forbidden as exc:
        return message(request, 403, "You may not write here", str(exc))
    except UsageError as exc:
        return message(request, 400, "Nothing was sent", str(exc))
    return RedirectResponse(f"/approvals/{request_id}#thread", status_code=303)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio_page(request: Request, mission: str = "", page: str = "1"):
    identity = web_sessions.page_person(request)
    service = request.app.state.access
    wanted = portfolio.scope(service.store, service.settings, identity.email)
    if wanted.empty:
        return message(request, 403, "No portfolio to show",
                       "The portfolio is for mission staff, mission directors, delegates and admins.")
    number = int(page) if page.isdigit() and len(page) < 7 else 1
    seen = portfolio.view(service.store, wanted, mission=mission[:200] or None, page=number)
    return render(request, "portfolio.html", title="Portfolio", mission=mission[:200], **seen)


@router.get("/static/{name}")
def static(name: str):
    """The pages' own assets (no CDN); only files that exist in ``static/`` by that exact name."""
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        return Response("not found", status_code=404, media_type="text/plain")
    kind = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}.get(files[name].suffix, "application/octet-stream")
    return Response(files[name].read_bytes(), media_type=kind, headers={"Cache-Control": "public, max-age=3600"})
