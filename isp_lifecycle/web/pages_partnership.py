"""The partnership page: where a partnership stands and, for those who may, what to do next.

    GET  /partnerships/{id}            stages and time in each, findings with the handbook's words
                                       and what to do, the document, history and audit entries
    POST /partnerships/{id}/upload     a new version, from a file or pasted text (every problem of
                                       an invalid one shown with its path and line)
    POST /partnerships/{id}/check      the gate as ``isp check`` would see it today (not recorded)
    POST /partnerships/{id}/advance    request the move (the gate first), then the decision page

Every change goes through ``access.Access``, as for the JSON API; every form carries the
session's ``csrf_token`` (``web.sessions.form_person``). Partner contacts read it only.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import access, authz, dossier
from ..errors import InvalidDocument, RefusedOperation, UnknownPartnership, UsageError
from ..services import utcnow
from . import sessions as web_sessions
from .pages import message, render

router = APIRouter(include_in_schema=False)
MAX_UPLOAD = 1024 * 1024


def outcome(kind: str, heading: str, *lines: str, problems: list | None = None, verdict: dict | None = None) -> dict:
    """What a form did, shown at the top of the page: ``kind`` is its style (invalid, uploaded,
    checked, blocked)."""
    return {"kind": kind, "heading": heading, "lines": list(lines), "problems": problems or [], "verdict": verdict}


def _page(request: Request, identity, partnership_id: str, status: int = 200, outcome: dict | None = None):
    service = request.app.state.access
    try:
        seen = dossier.view(service.store, service.settings, identity.email, partnership_id, today=utcnow().date())
    except UnknownPartnership:
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")
    return render(request, "partnership.html", status, title=seen["partnership"]["name"], outcome=outcome, **seen)


@router.get("/partnerships/{partnership_id}", response_class=HTMLResponse)
def partnership_page(request: Request, partnership_id: str):
    return _page(request, web_sessions.page_person(request), partnership_id)


def _problems(exc: InvalidDocument, text: str) -> list[dict[str, Any]]:
    where = dossier.lines(text)
    return [{"path": p.path, "message": p.message, "line": dossier.line_of(where, p.path)} for p in exc.problems]


async def _body(request: Request, fields: dict[str, str]) -> str:
    """The uploaded file's text, else the pasted text."""
    form = await request.form()  # already read (and size-capped by the guard): cached by Starlette
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read(MAX_UPLOAD + 1)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the file is not UTF-8 text: save it as UTF-8 YAML or JSON") from None
    return fields.get("text", "")


@router.post("/partnerships/{partnership_id}/upload", response_class=HTMLResponse)
async def upload(request: Request, partnership_id: str):
    identity, fields = await web_sessions.form_person(request)
    service = request.app.state.access
    try:
        text = await _body(request, fields)
        if not text.strip():
            raise UsageError("choose a file or paste the document's text")
        parsed = access.Upload.parse(partnership_id, text, json_only=False)
        _, result = await to_thread.run_sync(lambda: service.put_document(identity, partnership_id, parsed))
    except (UnknownPartnership, access.NotFound):
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")
    except InvalidDocument as exc:
        return _page(request, identity, partnership_id, 422, outcome(
            "invalid", "This version was not saved",
            f"The document has {len(exc.problems)} problem(s). Fix them and upload it again.",
            problems=_problems(exc, text)))
    except (UsageError, RefusedOperation) as exc:
        status = 403 if isinstance(exc, authz.Forbidden) else 409 if isinstance(exc, RefusedOperation) else 400
        return _page(request, identity, partnership_id, status, outcome("invalid", "This version was not saved", str(exc)))
    said = f"Version {result['version']} is saved." if result["changed"] else "Nothing changed: it is the same document."
    return _page(request, identity, partnership_id, 200, outcome("uploaded", "Uploaded", said))


@router.post("/partnerships/{partnership_id}/check", response_class=HTMLResponse)
async def check(request: Request, partnership_id: str):
    identity, _ = await web_sessions.form_person(request)
    service = request.app.state.access
    try:
        data = service.document(identity, partnership_id, None)  # 404 for whoever may not see it
    except (UnknownPartnership, access.NotFound):
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")
    from ..document import validate
    from ..gates import evaluate
    from ..inbox import counts
    from ..lifecycle import gate_of

    doc = validate(data, partnership_id)
    gate = gate_of(doc.stage)
    if gate is None:
        return _page(request, identity, partnership_id, 200, outcome("checked", "No gate to check",
                                                                     "The partnership is closed."))
    verdict = (await to_thread.run_sync(lambda: evaluate(doc, gate, utcnow().date()))).to_json()
    verdict["blocking"], verdict["advisory"] = counts(verdict["findings"])
    return _page(request, identity, partnership_id, 200, outcome(
        "checked" if verdict["passed"] else "blocked", "The gate today (not recorded)", verdict=verdict))


@router.post("/partnerships/{partnership_id}/advance", response_class=HTMLResponse)
async def advance(request: Request, partnership_id: str):
    identity, fields = await web_sessions.form_person(request)
    service = request.app.state.access
    to = fields.get("to") or None
    try:
        approval = await to_thread.run_sync(lambda: service.advance(identity, partnership_id, to=to, as_of=None))
    except (UnknownPartnership, access.NotFound):
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")
    except access.GateBlocked as exc:
        verdict = dict(exc.verdict)
        from ..inbox import counts

        verdict["blocking"], verdict["advisory"] = counts(verdict["findings"])
        return _page(request, identity, partnership_id, 409, outcome(
            "blocked", "The gate is blocked", "Nothing was requested. The leaders have been sent these findings.",
            verdict=verdict))
    except RefusedOperation as exc:
        return _page(request, identity, partnership_id, 403 if isinstance(exc, authz.Forbidden) else 409,
                     outcome("invalid", "The move was not requested", str(exc)))
    return RedirectResponse(f"/approvals/{approval['id']}", status_code=303)
