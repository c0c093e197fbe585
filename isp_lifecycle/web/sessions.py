"""Sessions over HTTP: the cookies, who a request's session is, and CSRF.

The service layer is ``isp_lifecycle.sessions``; this module only reads and writes cookies:

    isp_session  the session's secret: HttpOnly, SameSite=Lax, Secure when ISP_WEB_URL is https
    isp_csrf     the session's CSRF token (readable by a page's script; the same value forms
                 send as ``csrf_token`` and API calls as ``X-CSRF-Token``)

A POST, PUT or DELETE made with a session and without the session's token is refused with
403 before anything runs (``CsrfRefused``). Calls with a bearer token never look at cookies.
A page that needs a person answers 303 to the sign-in page with the page as ``next``
(``SignInRequired``); the API answers 401 (``web.errors.Unauthorized``).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from .. import authz, sessions
from ..identity import Identity
from ..sessions import COOKIE, CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER

UNSAFE = frozenset({"POST", "PUT", "DELETE", "PATCH"})
SIGN_IN = "/auth/sign-in"


class CsrfRefused(authz.Forbidden):
    """A session's state-changing request without its CSRF token (HTTP 403, nothing changed)."""

    def __init__(self) -> None:
        super().__init__(f"this request needs the session's CSRF token (form field {CSRF_FIELD}, "
                         f"header {CSRF_HEADER}); reload the page and try again")


class SignInRequired(Exception):
    """A page needs a signed-in person: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def _store(request: Request):
    return request.app.state.access.store


def _settings(request: Request):
    return request.app.state.access.settings


def _clock(request: Request):
    return getattr(request.app.state, "clock", None) or sessions.utcnow


def secret_of(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def person(request: Request) -> Identity | None:
    """The signed-in person of this request, or ``None`` (no cookie, or a session that ended)."""
    cached = getattr(request.state, "person", False)
    if cached is not False:
        return cached
    secret = secret_of(request)
    found = sessions.authenticate(_store(request), secret, client=client_of(request),
                                  clock=_clock(request)) if secret else None
    request.state.person = found
    return found


def check_csrf(request: Request, presented: str | None) -> None:
    if request.method in UNSAFE and not sessions.csrf_ok(secret_of(request) or "", presented):
        raise CsrfRefused()


def api_identity(request: Request) -> Identity | None:
    """The session behind an API call without a bearer token, its CSRF header checked."""
    found = person(request)
    if found is not None:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return found


def page_person(request: Request) -> Identity:
    """The person a page is for; ``SignInRequired`` (303 to sign in, then back) otherwise."""
    found = person(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return found


async def form_person(request: Request) -> tuple[Identity, dict[str, str]]:
    """A form post's person and fields, its ``csrf_token`` checked (403 without it)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    who = page_person(request)
    check_csrf(request, fields.get(CSRF_FIELD))
    return who, fields


def csrf_of(request: Request) -> str:
    secret = secret_of(request)
    return sessions.csrf_token(secret) if secret else ""


def sign_in_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"{SIGN_IN}?next={quote(next_path, safe='/')}", status_code=303)


def set_cookies(response: Response, request: Request, started: sessions.Started) -> None:
    secure = _settings(request).web_url.startswith("https:")
    age = int(sessions.ABSOLUTE.total_seconds())
    response.set_cookie(COOKIE, started.secret, max_age=age, path="/", httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, started.csrf, max_age=age, path="/", httponly=False, samesite="lax",
                        secure=secure)


def clear_cookies(response: Response) -> None:
    for name in (COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")
