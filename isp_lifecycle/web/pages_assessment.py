"""The assessment form a partner contact reaches from their invitation (``docs/assessments.md``).

    GET  /partnerships/{id}/assessments/{review}                      the form (sign in first)
    POST /partnerships/{id}/assessments/{review}/answers              ratings, comments, taking part
    POST /partnerships/{id}/assessments/{review}/lessons              add a lesson
    POST /partnerships/{id}/assessments/{review}/lessons/{n}/withdraw withdraw one
    POST /partnerships/{id}/assessments/{review}/decline              decline to assess

Only the contact the review invited sees or changes it: anyone else gets 404, whatever the
partnership. After it closes, every change is refused (409). Every form carries the session's
``csrf_token``. The work is ``isp_lifecycle.assessments_form``'s; this module is HTTP only.
"""

from __future__ import annotations

from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import assessments_form as form
from . import sessions as web_sessions
from .pages import message, render

router = APIRouter(include_in_schema=False)
BASE = "/partnerships/{partnership_id}/assessments/{review}"
SAID = {"saved": "Your answers are saved. You can change them until the assessment closes.",
        "lesson": "Your lesson is added.", "withdrawn": "The lesson is withdrawn.",
        "declined": "You declined this assessment. You can still answer until it closes."}


def _not_found(request: Request) -> HTMLResponse:
    return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")


def _review(review: str) -> int | None:
    return int(review) if review.isdigit() and len(review) < 10 else None


def _overlay(seen: dict, fields: dict[str, str]) -> None:
    """Show what the person sent rather than what is stored, so a refused form loses nothing."""
    if "text" in fields:  # the lesson form
        seen["draft"] = {"text": fields.get("text", ""), "principle": fields.get("principle", ""),
                         "shareable": fields.get("shareable", "")}
        return
    for p in seen["principles"]:
        p["rating"] = fields.get(f"rating.{p['slug']}") or None
        p["comment"] = fields.get(f"comment.{p['slug']}", "")
        p["attributed"] = fields.get(f"named.{p['slug']}") == "1"
    for i in seen["initiatives"]:
        said = fields.get(f"stays.{i['id']}")
        i["stays"] = None if said not in ("yes", "no") else said == "yes"


def _page(request: Request, partnership_id: str, review: int, status: int = 200, said: str | None = None,
          problem: str | None = None, fields: dict[str, str] | None = None) -> HTMLResponse:
    identity = web_sessions.page_person(request)
    service = request.app.state.access
    try:
        seen = form.view(service.store, identity.email, partnership_id, review, web_sessions.clock_of(request)())
    except form.NoAssessment:
        return _not_found(request)
    if fields is not None:
        _overlay(seen, fields)
    return render(request, "assessment.html", status, title=f"Your view of {seen['partnership']['name']}",
                  said=SAID.get(said or ""), problem=problem,
                  action=f"/partnerships/{quote(partnership_id, safe='')}/assessments/{review}", **seen)


@router.get(BASE, response_class=HTMLResponse)
def assessment_page(request: Request, partnership_id: str, review: str, said: str = ""):
    number = _review(review)
    if number is None:
        web_sessions.page_person(request)
        return _not_found(request)
    return _page(request, partnership_id, number, said=said[:20])


async def _act(request: Request, partnership_id: str, review: str, done: str, change) -> HTMLResponse:
    identity, fields = await web_sessions.form_person(request)
    number = _review(review)
    if number is None:
        return _not_found(request)
    service = request.app.state.access
    clock = web_sessions.clock_of(request)
    try:
        await to_thread.run_sync(lambda: change(service.store, identity, number, fields, clock))
    except form.NoAssessment:
        return _not_found(request)
    except form.Closed as exc:
        return _page(request, partnership_id, number, 409, problem=str(exc))
    except form.BadAnswer as exc:
        return _page(request, partnership_id, number, 400, problem=str(exc), fields=fields)
    target = f"/partnerships/{quote(partnership_id, safe='')}/assessments/{number}?said={done}"
    return RedirectResponse(target, status_code=303)


@router.post(BASE + "/answers", response_class=HTMLResponse)
async def answers(request: Request, partnership_id: str, review: str):
    return await _act(request, partnership_id, review, "saved", lambda store, who, n, fields, clock:
                      form.answer(store, who, partnership_id, n, fields, clock))


@router.post(BASE + "/lessons", response_class=HTMLResponse)
async def lessons(request: Request, partnership_id: str, review: str):
    return await _act(request, partnership_id, review, "lesson", lambda store, who, n, fields, clock:
                      form.add_lesson(store, who, partnership_id, n, fields, clock))


@router.post(BASE + "/lessons/{lesson}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, partnership_id: str, review: str, lesson: str):
    if not (lesson.isdigit() and len(lesson) < 10):
        await web_sessions.form_person(request)
        return _not_found(request)
    return await _act(request, partnership_id, review, "withdrawn", lambda store, who, n, fields, clock:
                      form.withdraw_lesson(store, who, partnership_id, n, int(lesson), clock))


@router.post(BASE + "/decline", response_class=HTMLResponse)
async def decline(request: Request, partnership_id: str, review: str):
    return await _act(request, partnership_id, review, "declined", lambda store, who, n, fields, clock:
                      form.decline(store, who, partnership_id, n, clock))
