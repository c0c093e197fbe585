"""Errors to HTTP statuses, once (the CLI's exit codes have the same single place).

Every answer that is not a success is ``application/problem+json`` (RFC 9457):
``{"type", "title", "status", "detail"}``, plus ``errors`` for an invalid document (the paths
and messages of ``isp check``) and ``verdict`` for a blocked gate.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from .. import access, authz
from ..errors import (
    InvalidDocument,
    IspError,
    RefusedOperation,
    StoreError,
    UnknownPartnership,
    UnreadableDocument,
    UsageError,
)

PROBLEM = "application/problem+json"
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Refused", 413: "Body too large", 415: "Unsupported media type", 422: "Invalid document",
          429: "Too many requests", 503: "Store unavailable"}
SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         409: "refused", 413: "too-large", 415: "unsupported-media-type", 422: "invalid-document",
         429: "rate-limited", 503: "store-down"}


def problem(status: int, detail: str, *, slug: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{slug or SLUGS.get(status, 'error')}", "title": TITLES.get(status, "Error"),
            "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class Unauthorized(Exception):
    """No credentials, or ones that are unknown, expired or revoked."""


def status_of(exc: Exception) -> tuple[int, str | None]:
    """The one table of statuses: (status, problem slug or None for the default)."""
    if isinstance(exc, access.GateBlocked):
        return 409, "gate-blocked"
    for kind, status in ((Unauthorized, 401), (UnknownPartnership, 404), (access.NotFound, 404),
                         (authz.Forbidden, 403), (RefusedOperation, 409), (InvalidDocument, 422),
                         (UnreadableDocument, 422), (UsageError, 400), (StoreError, 503),
                         (OperationalError, 503), (InterfaceError, 503)):
        if isinstance(exc, kind):
            return status, None
    return 400, None


def _detail(exc: Exception) -> str:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return "the store cannot be reached; try again shortly"
    return str(exc) or type(exc).__name__


def respond(exc: Exception) -> JSONResponse:
    status, slug = status_of(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, (InvalidDocument, UnreadableDocument)):
        extra["errors"] = [p.as_json() for p in exc.problems]
    if isinstance(exc, access.GateBlocked):
        extra["verdict"] = exc.verdict
    return problem(status, _detail(exc), slug=slug, **extra)


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "request"
    return problem(400, f"{where}: {first.get('msg', 'malformed request')}"[:300])


def _http(request: Request, exc: HTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail))


def install(app: FastAPI) -> None:
    handled = (IspError, Unauthorized, OperationalError, InterfaceError)
    for kind in handled:
        app.add_exception_handler(kind, lambda request, exc: respond(exc))
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
