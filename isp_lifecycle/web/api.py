"""The JSON API's routes (``/api/v1``): translate HTTP into ``access`` calls and back, nothing more.

Credentials are checked inside each route, after FastAPI has validated the request, so that
a malformed request is 400 before a missing token is 401 (the spec's order of statuses).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from anyio import to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .. import access
from ..identity import Identity
from ..reading import NeedsStore
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
BIGINT = 2**63 - 1  # ids are 64-bit integers in the store: larger is "no such id", but malformed
RequestId = Annotated[int, Path(ge=1, le=BIGINT)]
DOCUMENT_TYPES = {"application/yaml": {"schema": {"type": "object"}},  # a YAML mapping
                  "application/json": {"schema": {"type": "object"}}}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
            for s in (*statuses, 400, 401, 413, 503)}


router = APIRouter(prefix="/api/v1")


def _access(request: Request) -> access.Access:
    return request.app.state.access


def identify(request: Request, credentials: HTTPAuthorizationCredentials | None,
             hand: int | None = None) -> Identity:
    if credentials is None or not credentials.credentials:
        from .sessions import api_identity

        person = api_identity(request)  # a browser's session, its CSRF header checked on POST/PUT/DELETE
        if person is not None:
            return person
        raise Unauthorized("send an API token as `Authorization: Bearer TOKEN` (see `isp token create`)")
    client = request.client.host if request.client else None
    identity = _access(request).identify(credentials.credentials, client, hand)
    if identity is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    return identity


async def _read(request: Request, credentials: HTTPAuthorizationCredentials | None,
                answer: Callable[[access.Access, Identity, int, bool], Any]) -> Any:
    """A read: from memory, on the event loop, when the clock (read after the request came)
    says what the service keeps is current and the token was checked lately; otherwise the
    same ``answer`` in a worker thread, where it may wait on the store."""
    service, clock = _access(request), request.app.state.store_clock
    tick, hand = await clock.reading()
    if service.behind(tick):  # a write since the last read: one worker brings the snapshot up for all
        await clock.once(tick, service.catch_up)
    client = request.client.host if request.client else None
    identity = service.known(credentials.credentials, client, hand) if credentials and credentials.credentials else None
    if identity is not None:
        try:
            return answer(service, identity, tick, True)
        except NeedsStore:
            pass

    def with_store() -> Any:
        return answer(service, identity or identify(request, credentials, hand), tick, False)

    return await to_thread.run_sync(with_store)


class _FastJSON(JSONResponse):
    """The API's JSON, encoded by orjson: the same compact UTF-8 as the standard encoder, in a
    fraction of its time (a page of 100 partnerships was 7 % of the service's time under load)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _json(body: Any, status: int = 200) -> JSONResponse:
    return _FastJSON(body, status_code=status)


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
    body, json_only = await _text(request)
    await to_thread.run_sync(identify, request, credentials)
    when = as_of or access.services.utcnow().date()
    verdict = await to_thread.run_sync(lambda: access.gate_check(body, json_only=json_only, gate=gate, as_of=when))
    return _json(verdict)


@router.get("/partnerships", response_model=Partnerships, responses=_errors())
async def partnerships(request: Request, credentials: Credentials, mission: str | None = None,
                       stage: Literal["convene", "commit", "implement", "review", "closed"] | None = None,
                       after: str | None = None, limit: Limit = 100):
    found, following = await _read(request, credentials, lambda service, who, tick, memory_only: service.partnerships(
        who, mission=mission, stage=stage, after=after, limit=limit, tick=tick, memory_only=memory_only))
    return _json({"partnerships": found, "next": following})


@router.get("/partnerships/{partnership_id}", response_model=PartnershipDetail, responses=_errors(404))
async def partnership(request: Request, credentials: Credentials, partnership_id: str):
    return _json(await _read(request, credentials, lambda service, who, tick, memory_only: service.partnership(
        who, partnership_id, tick=tick, memory_only=memory_only)))


@router.get("/partnerships/{partnership_id}/document", responses={**_errors(404), 200: {"content": DOCUMENT_TYPES}})
def document(request: Request, credentials: Credentials, partnership_id: str,
             version: Annotated[int | None, Query(ge=1, le=BIGINT)] = None):
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
async def approvals(request: Request, credentials: Credentials,
                    status: Literal["pending", "approved", "rejected", "stale"] | None = None,
                    after: Annotated[int | None, Query(ge=0, le=BIGINT)] = None, limit: Limit = 100):
    found, following = await _read(request, credentials, lambda service, who, tick, memory_only: service.approvals(
        who, status=status, after=after, limit=limit, tick=tick, memory_only=memory_only))
    return _json({"approvals": found, "next": following})


@router.get("/approvals/{request_id}", response_model=Approval, responses=_errors(404))
def approval(request: Request, credentials: Credentials, request_id: RequestId):
    return _json(_access(request).approval(identify(request, credentials), request_id))


@router.post("/approvals/{request_id}/decision", response_model=Approval,
             responses={**_errors(403, 404, 409, 422), 202: {"model": Approval}})
def decision(request: Request, credentials: Credentials, request_id: RequestId, body: DecisionBody):
    result = _access(request).decide(identify(request, credentials), request_id,
                                     approve=body.decision == "approve", note=body.note)
    return _json(result, 200 if result["applied"] else 202)
