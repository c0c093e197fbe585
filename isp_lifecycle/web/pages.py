"""The people's pages: "Waiting on you" and the decision page (server-rendered, no script).

HTTP only: every answer comes from the read views (``inbox``, ``decision``) and every change
from ``access.Access`` (``request.app.state.access``), as for the JSON API. The sign-in layer
provides, on ``request.state`` once the caller signed in, ``identity`` (an ``Identity``) and
``csrf_token`` (the value every form carries; it checks it on POST). A page asked for without
a signed-in identity redirects (303) to the sign-in page and comes back afterwards.

The security headers of ``docs/spec/api.md`` ("Pages") are the app's ``guard``: a CSP that
allows nothing inline and nothing from another origin, and no framing.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import access, authz, decision, inbox
from ..errors import RefusedOperation, UnknownPartnership
from ..services import utcnow

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SIGN_IN = "/signin"

router = APIRouter(include_in_schema=False)


def _environment() -> jinja2.Environment:
    from notifications.render import FILTERS  # the same words as the messages: dates, stages, principles

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=jinja2.select_autoescape(("html",)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["days"] = lambda n: "today" if n < 1 else ("1 day" if n == 1 else f"{n} days")
    return env


_env = _environment()


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    identity = getattr(request.state, "identity", None)
    html = _env.get_template(template).render(
        me=identity, csrf_token=getattr(request.state, "csrf_token", ""), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def _signed_in(request: Request):
    """The caller's identity, or a redirect to sign in that comes back to this path."""
    identity = getattr(request.state, "identity", None)
    if identity is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return None, RedirectResponse(f"{SIGN_IN}?next={quote(target, safe='/')}", status_code=303)
    return identity, None


def _not_found(request: Request) -> HTMLResponse:
    return render(request, "message.html", 404, title="Not found",
                  message="There is nothing here, or nothing you may see.")


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request):
    identity, redirect = _signed_in(request)
    if redirect:
        return redirect
    service, now = request.app.state.access, utcnow()
    days = service.settings.remind_days
    return render(request, "inbox.html", title="Waiting on you", remind_days=days,
                  waiting=inbox.waiting_on(service.store, identity.email, now=now, remind_days=days),
                  mine=inbox.in_flight(service.store, identity.email, now=now, remind_days=days))


@router.get("/approvals/{request_id}", response_class=HTMLResponse)
def decision_page(request: Request, request_id: int):
    identity, redirect = _signed_in(request)
    if redirect:
        return redirect
    service = request.app.state.access
    try:
        seen = decision.view(service.store, service.settings, identity.email, request_id, now=utcnow())
    except UnknownPartnership:
        return _not_found(request)
    return render(request, "decision.html", title=f"Decide: {seen['partnership']['name']}", **seen)


@router.post("/approvals/{request_id}", response_class=HTMLResponse)
def decide(request: Request, request_id: int, decision_: str = Form("", alias="decision"), note: str = Form("")):
    identity, redirect = _signed_in(request)
    if redirect:
        return redirect
    if decision_ not in ("approve", "reject"):
        return render(request, "message.html", 400, title="Choose Approve or Reject",
                      message="The form came without a decision: press Approve or Reject.")
    if len(note) > access.NOTE_LIMIT:
        return render(request, "message.html", 422, title="The note is too long",
                      message=f"A note holds at most {access.NOTE_LIMIT} characters; this one has {len(note)}.")
    try:
        request.app.state.access.decide(identity, request_id, approve=decision_ == "approve",
                                        note=note.strip() or None)
    except (access.NotFound, UnknownPartnership):
        return _not_found(request)
    except authz.Forbidden as exc:
        return render(request, "message.html", 403, title="You may not decide this request", message=str(exc))
    except RefusedOperation as exc:  # already decided, or stale
        return render(request, "message.html", 409, title="This request cannot be decided now", message=str(exc),
                      back=f"/approvals/{request_id}")
    return RedirectResponse(f"/approvals/{request_id}", status_code=303)


@router.get("/static/{name}")
def static(name: str):
    """The pages' own assets (no CDN); only files that exist in ``static/`` by that exact name."""
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        return Response("not found", status_code=404, media_type="text/plain")
    kind = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}.get(files[name].suffix, "application/octet-stream")
    return Response(files[name].read_bytes(), media_type=kind, headers={"Cache-Control": "public, max-age=3600"})
