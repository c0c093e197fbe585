"""Single sign-on: OpenID Connect authorization code flow with PKCE (``docs/spec/api.md``).

Enabled when ``ISP_OIDC_ISSUER``, ``ISP_OIDC_CLIENT_ID`` and ``ISP_OIDC_CLIENT_SECRET`` are set.
Scopes ``openid email``; redirect URI ``ISP_WEB_URL/auth/oidc/callback``; the identity is the
``email`` claim, accepted only with ``email_verified: true``.

authlib builds the authorization URL (S256 code challenge) and exchanges the code; joserfc
(authlib's JOSE library) checks the ID token's signature against the provider's keys, its
issuer, audience, expiry and nonce. The userinfo answer (where providers such as
oidc-provider put the ``email`` claims) must be about the same ``sub``.

The flow's state (``state``, the PKCE verifier, the nonce, where to go afterwards) lives in a
short-lived cookie scoped to ``/auth/oidc``: ``isp web`` stays stateless, any copy can take
the callback, and a callback whose ``state`` differs from the cookie's is refused (it was
not started in this browser).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from .. import sessions, signin
from . import sessions as web_sessions

router = APIRouter(include_in_schema=False)
SCOPES = "openid email"
COOKIE = "isp_oidc"
FLOW_SECONDS = 600
DISCOVERY_SECONDS = 3600
TIMEOUT = 10
_discovered: dict[str, tuple[float, dict[str, Any], dict[str, Any]]] = {}
_lock = threading.Lock()


class SsoFailed(Exception):
    """The provider's answer cannot sign anyone in (said on the page, never a 5xx)."""


def redirect_uri(settings) -> str:
    return f"{settings.web_url}/auth/oidc/callback"


def _client(settings):
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(settings.oidc_client_id, settings.oidc_client_secret, scope=SCOPES,
                         redirect_uri=redirect_uri(settings), code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic", default_timeout=TIMEOUT)


def discover(settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provider's metadata and keys, fetched once an hour per process."""
    import requests

    issuer = settings.oidc_issuer
    with _lock:
        cached = _discovered.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
            return cached[1], cached[2]
    try:
        meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
        keys = requests.get(meta["jwks_uri"], timeout=TIMEOUT).json()
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise SsoFailed(f"the sign-on provider cannot be reached ({type(exc).__name__})") from None
    if meta.get("issuer", "").rstrip("/") != issuer:
        raise SsoFailed("the sign-on provider names another issuer than ISP_OIDC_ISSUER")
    with _lock:
        _discovered[issuer] = (time.monotonic(), meta, keys)
    return meta, keys


def _pack(flow: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()


def _unpack(raw: str | None) -> dict[str, str] | None:
    try:
        flow = json.loads(base64.urlsafe_b64decode((raw or "").encode()))
    except ValueError:
        return None
    return flow if isinstance(flow, dict) and all(isinstance(v, str) for v in flow.values()) else None


def _failed(request: Request, *lines: str, status: int = 400):
    from .signin import message

    response = message(request, "Single sign-on did not sign you in", *lines, status=status, again=True)
    response.delete_cookie(COOKIE, path="/auth/oidc")
    return response


@router.get("/auth/oidc/start")
def start(request: Request, next: str | None = None):
    from authlib.common.security import generate_token

    settings = web_sessions._settings(request)
    if not settings.oidc_enabled:
        return _failed(request, "Single sign-on is not configured here: ask for an email link.", status=404)
    try:
        meta, _ = discover(settings)
    except SsoFailed as exc:
        return _failed(request, str(exc) + ".")
    flow = {"state": generate_token(32), "verifier": generate_token(64), "nonce": generate_token(32),
            "next": signin.safe_next(next)}
    url, _ = _client(settings).create_authorization_url(meta["authorization_endpoint"], state=flow["state"],
                                                        code_verifier=flow["verifier"], nonce=flow["nonce"])
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(COOKIE, _pack(flow), max_age=FLOW_SECONDS, path="/auth/oidc", httponly=True, samesite="lax",
                        secure=settings.web_url.startswith("https:"))
    return response


def _verified_email(settings, meta: dict, keys: dict, token: dict, nonce: str, session) -> str:
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    from joserfc.jwt import JWTClaimsRegistry

    try:
        decoded = jwt.decode(token["id_token"], KeySet.import_key_set(keys))
        JWTClaimsRegistry(iss={"essential": True, "value": meta["issuer"]},
                          aud={"essential": True, "value": settings.oidc_client_id},
                          nonce={"essential": True, "value": nonce},
                          exp={"essential": True}, sub={"essential": True}).validate(decoded.claims)
    except (JoseError, KeyError, ValueError) as exc:
        raise SsoFailed(f"the provider's ID token was refused ({type(exc).__name__})") from None
    claims = dict(decoded.claims)
    if meta.get("userinfo_endpoint"):
        info = session.get(meta["userinfo_endpoint"]).json()
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise SsoFailed("the provider's user information is about someone else")
        claims.update(info)
    email = claims.get("email")
    if not isinstance(email, str) or signin.normal_email(email) is None:
        raise SsoFailed("the provider gave no email address")
    if claims.get("email_verified") is not True:
        raise SsoFailed(f"the provider has not verified the address {email}")
    return email


@router.get("/auth/oidc/callback")
def callback(request: Request, code: str = "", state: str = "", error: str = ""):
    settings = web_sessions._settings(request)
    flow = _unpack(request.cookies.get(COOKIE))
    if not settings.oidc_enabled or flow is None or not state or state != flow.get("state"):
        return _failed(request, "This answer from the sign-on provider was not asked for by this browser.")
    if error or not code:
        return _failed(request, f"The provider answered: {error[:100] or 'no code'}.")
    try:
        meta, keys = discover(settings)
        client = _client(settings)
        token = client.fetch_token(meta["token_endpoint"], code=code, code_verifier=flow["verifier"],
                                   grant_type="authorization_code")
        email = _verified_email(settings, meta, keys, token, flow["nonce"], client)
    except SsoFailed as exc:
        return _failed(request, str(exc) + ".", status=403)
    except Exception as exc:  # the provider refused the code, or its answer was not OAuth
        return _failed(request, f"The provider refused the sign-in ({type(exc).__name__}).")
    store, clock = web_sessions._store(request), web_sessions._clock(request)
    if not signin.may_sign_in(store, settings, email):
        return _failed(request, f"No partnership of this service names {email}.", status=403)
    started = sessions.sign_in_verified(store, email, "oidc", client=web_sessions.client_of(request),
                                        user_agent=request.headers.get("user-agent"), next_path=flow["next"],
                                        clock=clock)
    from .signin import signed_in

    response = signed_in(request, started)
    response.delete_cookie(COOKIE, path="/auth/oidc")
    return response
