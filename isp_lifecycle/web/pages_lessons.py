"""The lessons page: the lessons register (``isp_lifecycle.lessons``) for a signed-in person.

    GET /lessons?mission=M&principle=P&partnership=ID&page=N   the register, newest first
    GET /lessons/brief?mission=M&principle=P&partnership=ID    the shareable lessons of the same
                                                               view as a brief (a file to save)

50 to a page, the filters of ``isp lessons`` as query parameters (a plain form, no script).
Who reads what is ``lessons.for_person``: admins, mission staff, directors and delegates every
lesson of their missions; the contacts and leaders a partnership names only its shareable
lessons; anyone else is told the register is not for them (403). An unknown principle or a
mission the person reads nothing of is 400 with the page and its form; a partnership they may
not see is 404, as everywhere. The brief is ``lessons_brief``'s: it names no person.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from .. import lessons, lessons_brief
from ..errors import UnknownPartnership, UsageError
from ..rulepack import PRINCIPLES
from ..services import utcnow
from . import sessions as web_sessions
from .pages import message, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FIELD_LIMIT = 200


def _page_number(page: str) -> int:
    return int(page) if page.isdigit() and len(page) < 7 and int(page) > 0 else 1


def _seen(request: Request, identity, wanted: dict[str, str]) -> tuple[lessons.Seen | Response, str | None]:
    """What the person reads within ``wanted``, and the problem with the filter if there is one
    (then the view without filters, for the form); or the answer to give instead (404, 403)."""
    service = request.app.state.access
    problem = None
    try:
        seen = lessons.for_person(service.store, service.settings, identity, reads=service.reads,
                                  **{key: value or None for key, value in wanted.items()})
    except UnknownPartnership:
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see."), None
    except UsageError as exc:
        problem = str(exc)
        seen = lessons.for_person(service.store, service.settings, identity, reads=service.reads)
        seen = lessons.Seen([], seen.missions, seen.shareable_only)
    if not seen.missions:
        return message(request, 403, "No lessons to show",
                       "The lessons register is for mission staff, mission directors, delegates and admins, "
                       "and for the partners of a partnership."), None
    return seen, problem


def _wanted(mission: str, principle: str, partnership: str) -> dict[str, str]:
    return {"mission": mission[:FIELD_LIMIT].strip(), "principle": principle[:FIELD_LIMIT].strip(),
            "partnership": partnership[:FIELD_LIMIT].strip()}


@router.get("/lessons", response_class=HTMLResponse)
def lessons_page(request: Request, mission: str = "", principle: str = "", partnership: str = "", page: str = "1"):
    identity = web_sessions.page_person(request)
    wanted = _wanted(mission, principle, partnership)
    seen, problem = _seen(request, identity, wanted)
    if isinstance(seen, Response):
        return seen
    newest = seen.lessons[::-1]
    pages = max(1, -(-len(newest) // PAGE_SIZE))
    number = min(_page_number(page), pages)
    query = {k: v for k, v in wanted.items() if v}
    return render(request, "lessons.html", 400 if problem else 200, title="Lessons learned", problem=problem,
                  wanted=wanted, missions=seen.missions, principles=PRINCIPLES, shareable_only=seen.shareable_only,
                  total=len(newest), shareable=sum(1 for lesson in newest if lesson.shareable),
                  items=newest[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], page=number, pages=pages, query=query)


@router.get("/lessons/brief")
def lessons_brief_file(request: Request, mission: str = "", principle: str = "", partnership: str = ""):
    identity = web_sessions.page_person(request)
    wanted = _wanted(mission, principle, partnership)
    seen, problem = _seen(request, identity, wanted)
    if isinstance(seen, Response):
        return seen
    if problem:
        return message(request, 400, "Nothing to put in a brief", problem)
    from isp_lifecycle.notifications.render import PRINCIPLE_NAMES

    service, today = request.app.state.access, utcnow().date()
    mission_as_stored = next((m for m in seen.missions if m.casefold() == wanted["mission"].casefold()), None)
    scope = lessons_brief.scope_words(mission_as_stored, wanted["principle"] or None, wanted["partnership"] or None)
    html = lessons_brief.html_of(seen.lessons, lessons.people(service.store, service.reads), today,
                                 PRINCIPLE_NAMES, scope)
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="lessons-{today.isoformat()}.html"'})
