"""The JSON API's routes (``/api/v1``): translate HTTP into ``access`` calls and back, nothing more.

Credentials are checked inside each route, after FastAPI has validated the request, so that
a malformed request is 400 before a missing token is 401 (the spec's order of statuses).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .. import access, tokens
from ..identity import Identity
from .errors import PROBLEM, Unauthorized
from .schemas import (
    AdvanceBody,
    Approval,
    Approvals,
    DecisionBody,
    Health,
    Imported,
    Me,
    PartnershipDetail,
    Partnerships,
    Problem,
    Requested,
)

bearer = HTTPBearer(auto_error=False, description="An API token: `isp token create EMAIL`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Limit = Annotated[int, Query(ge=1, le=1000)]
DOCUMENT_TYPES = {"application/yaml": {"schema": {"type": "string"}},
                  "application/json": {"schema": {"type": "object"}}}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
            for s in (*statuses, 400, 401, 413, 503)}


router = APIRouter(prefix="/api/v1")


def _access(request: Request) -> access.Access:
    return request.app.state.access


def identify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Identity:
    if credentials is None or not credentials.credentials:
        from .sessions import api_identity

        person = api_identity(request)  # a browser's session, its CSRF header checked on POST/PUT/DELETE
        if person is not None:
            return person
        raise Unauthorized("send an API token as `Authorization: Bearer TOKEN` (see `isp token create`)")
    client = request.client.host if request.client else None
    identity = tokens.authenticate(_access(request).store, credentials.credentials, client=client)
    if identity is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    return identity


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def _text(request: Request) -> tuple[str, bool]:
    """A document body as text, and whether it is JSON (else YAML)."""
    from ..errors import InvalidDocument, Problem as Bad

    raw = await request.body()
    json_only = (request.headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json"
    try:
        return raw.decode("utf-8"), json_only
    except UnicodeDecodeError as exc:
        raise InvalidDocument([Bad("(document)", f"not UTF-8 text (byte {exc.start})")]) from None


@router.get("/health", response_model=Health, responses={503: {"model": Problem}})
def health(request: Request):
    _access(request).health()
    return _json({"status": "ok"})


@router.get("/me", response_model=Me, responses=_errors())
def me(request: Request, credentials: Credentials):
    return _json(_access(request).me(identify(request, credentials)))


@router.post("/check", responses=_errors(422), openapi_extra={"requestBody": {"content": DOCUMENT_TYPES,
                                                                              "required": True}})
async def check(request: Request, credentials: Credentials,
                gate: Literal["convene", "commit", "implement", "review"] | None = None, as_of: date | None = None):
    from anyio import to_thread

    body, json_only = await _text(request)
    await to_thread.run_sync(identify, request, credentials)
    when = as_of or access.services.utcnow().date()
    verdict = await to_thread.run_sync(lambda: access.gate_check(body, json_only=json_only, gate=gate, as_of=when))
    return _json(verdict)


@router.get("/partnerships", response_model=Partnerships, responses=_errors())
def partnerships(request: Request, credentials: Credentials, mission: str | None = None,
                 stage: Literal["convene", "commit", "implement", "review", "closed"] | None = None,
                 after: str | None = None, limit: Limit = 100):
    found, following = _access(request).partnerships(identify(request, credentials), mission=mission, stage=stage,
                                                     after=after, limit=limit)
    return _json({"partnerships": found, "next": following})


@router.get("/partnerships/{partnership_id}", response_model=PartnershipDetail, responses=_errors(404))
def partnership(request: Request, credentials: Credentials, partnership_id: str):
    return _json(_access(request).partnership(identify(request, credentials), partnership_id))


@router.get("/partnerships/{partnership_id}/document", responses={**_errors(404), 200: {"content": DOCUMENT_TYPES}})
def document(request: Request, credentials: Credentials, partnership_id: str,
             version: Annotated[int | None, Query(ge=1)] = None):
    data = _access(request).document(identify(request, credentials), partnership_id, version)
    if "application/json" in (request.headers.get("accept") or ""):
        return _json(data)
    import io

    from ..cli.store import dump_yaml

    out = io.StringIO()
    dump_yaml(data, out)
    return Response(out.getvalue(), media_type="application/yaml")


@router.put("/partnerships/{partnership_id}/document", response_model=Imported,
            responses={**_errors(403, 404, 409, 422), 201: {"model": Imported}},
            openapi_extra={"requestBody": {"content": DOCUMENT_TYPES, "required": True}})
async def put_document(request: Request, credentials: Credentials, partnership_id: str):
    from anyio import to_thread

    body, json_only = await _text(request)
    upload = await to_thread.run_sync(lambda: access.Upload.parse(partnership_id, body, json_only=json_only))

    def work():
        return _access(request).put_document(identify(request, credentials), partnership_id, upload)

    created, result = await to_thread.run_sync(work)
    return _json(result, 201 if created else 200)


@router.post("/partnerships/{partnership_id}/advance", status_code=202, response_model=Requested,
             responses=_errors(403, 404, 409))
def advance(request: Request, credentials: Credentials, partnership_id: str, body: AdvanceBody | None = None):
    body = body or AdvanceBody()
    approval = _access(request).advance(identify(request, credentials), partnership_id, to=body.to, as_of=body.as_of)
    return _json({"request": approval}, 202)


@router.get("/approvals", response_model=Approvals, responses=_errors())
def approvals(request: Request, credentials: Credentials,
              status: Literal["pending", "approved", "rejected", "stale"] | None = None,
              after: Annotated[int | None, Query(ge=0)] = None, limit: Limit = 100):
    found, following = _access(request).approvals(identify(request, credentials), status=status, after=after,
                                                  limit=limit)
    return _json({"approvals": found, "next": following})


@router.get("/approvals/{request_id}", response_model=Approval, responses=_errors(404))
def approval(request: Request, credentials: Credentials, request_id: int):
    return _json(_access(request).approval(identify(request, credentials), request_id))


@router.post("/approvals/{request_id}/decision", response_model=Approval,
             responses={**_errors(403, 404, 409, 422), 202: {"model": Approval}})
def decision(request: Request, credentials: Credentials, request_id: int, body: DecisionBody):
    result = _access(request).decide(identify(request, credentials), request_id,
                                     approve=body.decision == "approve", note=body.note)
    return _json(result, 200 if result["applied"] else 202)
