"""The sign-in pages: email links, sign-out, the account page, and ``isp login`` confirmation.

Contract: ``docs/spec/api.md``, "Signing in". Server-rendered (Jinja2, autoescaped), no
script, every form a plain POST carrying ``csrf_token`` once a session exists.

    GET  /                         sign-in page when not signed in, else the account page
    GET  /auth/sign-in?next=PATH   the form (email; single sign-on when configured)
    POST /auth/sign-in             send a link (same page for known and unknown emails; 429 past the limits)
    GET  /auth/link?t=…            a page with a **Sign in** button; changes nothing
    POST /auth/link                spend the link (form field ``token``, or ``?t=`` as in the link itself),
                                   start the session, 303 to where the person was going
    POST /auth/sign-out            end the session
    GET  /account                  sessions and tokens, each revocable; make a token (method ``token``)
    GET  /auth/device?code=…       confirm an ``isp login`` (signed in)
    POST /auth/device/code         (the command) start an ``isp login``: device and user codes
    POST /auth/device/token        (the command) poll; the token once confirmed

The link's secret travels in the query string (the access log drops query strings) and in
the POST body, never in a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .. import sessions, signin, tokens
from . import sessions as web_sessions

router = APIRouter(include_in_schema=False)
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined)
TOKEN_DAYS_MAX = tokens.MAX_DAYS


def page(request: Request, name: str, status: int = 200, headers: dict | None = None, **values: Any) -> HTMLResponse:
    who = values.pop("person", None) or web_sessions.person(request)
    html = TEMPLATES.get_template(name).render(person=who, csrf=web_sessions.csrf_of(request) if who else "",
                                               **values)
    return HTMLResponse(html, status_code=status, headers=headers)


def message(request: Request, heading: str, *lines: str, status: int = 200, again: bool = False,
            headers: dict | None = None) -> HTMLResponse:
    return page(request, "message.html", status, headers, heading=heading, lines=list(lines), again=again)


def install(app) -> None:
    """Register the routes and the answers to ``SignInRequired`` and a refused CSRF on pages."""
    from . import oidc

    app.include_router(router)
    app.include_router(oidc.router)
    app.add_exception_handler(web_sessions.SignInRequired,
                              lambda request, exc: web_sessions.sign_in_redirect(exc.next_path))


def _env(request: Request):
    return web_sessions.store_of(request), web_sessions.settings_of(request), web_sessions.clock_of(request)


@router.get("/")
def home(request: Request):
    target = "/account" if web_sessions.person(request) else web_sessions.SIGN_IN
    return RedirectResponse(target, status_code=303)


@router.get("/auth/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None):
    return page(request, "sign_in.html", next=signin.safe_next(next),
                oidc=web_sessions.settings_of(request).oidc_enabled)


@router.post("/auth/sign-in", response_class=HTMLResponse)
async def sign_in_asked(request: Request):
    from anyio import to_thread

    from isp_lifecycle.notifications import signin_mail

    if web_sessions.cross_site(request):
        return _elsewhere(request)
    form = await request.form()
    email, next_path = str(form.get("email") or ""), str(form.get("next") or "/")
    store, settings, clock = _env(request)
    try:
        await to_thread.run_sync(lambda: signin_mail.ask(store, settings, email, client=web_sessions.client_of(request),
                                                         next_path=next_path, clock=clock))
    except signin.RateLimited as exc:
        return message(request, "Too many requests", str(exc) + ".", status=429,
                       headers={"Retry-After": str(exc.retry_after)})
    return message(request, "Check your email",
                   "If this address may use isp-lifecycle, a message with a sign-in link is on its way to it.",
                   "The link works once, for 15 minutes.")


def _elsewhere(request: Request) -> HTMLResponse:
    return message(request, "Not from this site", "Sign in from this site's own sign-in page.", status=403,
                   again=True)


def _spent(request: Request) -> HTMLResponse:
    return message(request, "This link cannot be used",
                   "Sign-in links work once, for 15 minutes. Ask for a new one.", status=410, again=True)


@router.get("/auth/link", response_class=HTMLResponse)
def link_page(request: Request, t: str = ""):
    token = t
    store, _, clock = _env(request)
    link = signin.peek_link(store, token, clock=clock)
    if link is None:
        return _spent(request)
    return page(request, "link.html", email=link.email, token=token)


@router.post("/auth/link")
async def link_used(request: Request):
    from anyio import to_thread

    if web_sessions.cross_site(request):
        return _elsewhere(request)
    form = await request.form()
    secret = str(form.get("token") or request.query_params.get("t") or "")  # the button's form, or the link itself
    store, _, clock = _env(request)
    started = await to_thread.run_sync(lambda: sessions.sign_in_with_link(
        store, secret, client=web_sessions.client_of(request),
        user_agent=request.headers.get("user-agent"), clock=clock))
    if started is None:
        return _spent(request)
    return signed_in(request, started)


def signed_in(request: Request, started: sessions.Started) -> Response:
    response = RedirectResponse(started.next_path, status_code=303)
    web_sessions.set_cookies(response, request, started)
    return response


@router.post("/auth/sign-out")
async def sign_out(request: Request):
    await web_sessions.form_person(request)
    store, _, clock = _env(request)
    sessions.sign_out(store, web_sessions.secret_of(request), clock=clock)
    response = RedirectResponse(web_sessions.SIGN_IN, status_code=303)
    web_sessions.clear_cookies(response)
    return response


# ------------------------------------------------------------------ account page

def _account(request: Request, who, new_token: str | None = None, status: int = 200) -> HTMLResponse:
    store, _, clock = _env(request)
    live = [t for t in tokens.list_tokens(store, who.email) if not t.get("revoked")]
    return page(request, "account.html", status, person=who, sessions=sessions.list_sessions(store, who.email, clock=clock),
                tokens=live, new_token=new_token)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request):
    return _account(request, web_sessions.page_person(request))


@router.post("/account/sessions/{session_id}/revoke")
async def end_session(request: Request, session_id: str):
    who, _ = await web_sessions.form_person(request)
    store, _, clock = _env(request)
    sessions.revoke(store, session_id, email=who.email, clock=clock)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str):
    who, _ = await web_sessions.form_person(request)
    store = web_sessions.store_of(request)
    if any(t["id"] == token_id for t in tokens.list_tokens(store, who.email)):
        tokens.revoke(store, token_id, actor=who.email)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
async def make_token(request: Request):
    who, fields = await web_sessions.form_person(request)
    days = fields.get("days", "90")
    if not days.isdigit() or not 1 <= int(days) <= TOKEN_DAYS_MAX:
        return message(request, "Not made", f"days must be a whole number from 1 to {TOKEN_DAYS_MAX}.", status=400)
    made = tokens.create(web_sessions.store_of(request), who.email, name=fields.get("name", "")[:100] or "account page",
                         days=int(days), method="token", actor=who.email)
    return _account(request, who, new_token=made.secret, status=201)


# ------------------------------------------------------------------ isp login

@router.get("/auth/device", response_class=HTMLResponse)
def device_page(request: Request, code: str = ""):
    who = web_sessions.page_person(request)
    store, _, clock = _env(request)
    found = sessions.pending_device(store, code, clock=clock) if code else None
    if code and found is None:
        return message(request, "Unknown code", "This code is unknown, was used, or has expired: run isp login again.",
                       status=404)
    return page(request, "device.html", person=who, login=found)


@router.post("/auth/device", response_class=HTMLResponse)
async def device_confirmed(request: Request):
    who, fields = await web_sessions.form_person(request)
    store, _, clock = _env(request)
    if not sessions.approve_device(store, fields.get("code"), who.email, clock=clock):
        return message(request, "Unknown code", "This code is unknown, was used, or has expired: run isp login again.",
                       status=404)
    return message(request, "Confirmed", "Go back to the command: it now holds a token for you.")


@router.post("/auth/device/code")
async def device_code(request: Request):
    body = await _json_body(request)
    store, settings, clock = _env(request)
    try:
        started = sessions.begin_device(store, name=str(body.get("name") or "isp login"),
                                        client=web_sessions.client_of(request), clock=clock)
    except signin.RateLimited as exc:
        return JSONResponse({"error": "slow_down", "detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})
    verify = f"{settings.web_url}/auth/device"
    return JSONResponse({"device_code": started.device_code, "user_code": started.user_code,
                         "verification_uri": verify, "verification_uri_complete": f"{verify}?code={started.user_code}",
                         "expires_in": started.expires_in, "interval": started.interval})


@router.post("/auth/device/token")
async def device_token(request: Request):
    body = await _json_body(request)
    store, _, clock = _env(request)

    def issue(email: str, name: str) -> str:
        return tokens.create(store, email, name=name, method="token", actor=email).secret

    state, secret = sessions.collect_device(store, str(body.get("device_code") or ""), issue, clock=clock)
    if state == "ok":
        return JSONResponse({"token": secret})
    error = "authorization_pending" if state == "pending" else "expired_token"
    return JSONResponse({"error": error}, status_code=400)


async def _json_body(request: Request) -> dict:
    import json

    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}
