"""The lessons page: the lessons register (``isp_lifecycle.lessons``) for a signed-in person.

    GET /lessons?mission=M&principle=P&partnership=ID&page=N

Newest first, 50 to a page, the filters of ``isp lessons`` as query parameters (a plain form,
no script). Who reads what is ``lessons.for_person``: admins, mission staff, directors and
delegates every lesson of their missions; the contacts and leaders a partnership names only its
shareable lessons; anyone else is told the register is not for them (403). An unknown
principle or a mission the person reads nothing of is 400 with the page and its form; a
partnership they may not see is 404, as everywhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import lessons
from ..errors import UnknownPartnership, UsageError
from ..rulepack import PRINCIPLES
from . import sessions as web_sessions
from .pages import message, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FIELD_LIMIT = 200


def _page_number(page: str) -> int:
    return int(page) if page.isdigit() and len(page) < 7 and int(page) > 0 else 1


@router.get("/lessons", response_class=HTMLResponse)
def lessons_page(request: Request, mission: str = "", principle: str = "", partnership: str = "", page: str = "1"):
    identity = web_sessions.page_person(request)
    service = request.app.state.access
    wanted = {"mission": mission[:FIELD_LIMIT].strip(), "principle": principle[:FIELD_LIMIT].strip(),
              "partnership": partnership[:FIELD_LIMIT].strip()}
    status, problem = 200, None
    try:
        seen = lessons.for_person(service.store, service.settings, identity, reads=service.reads,
                                  **{key: value or None for key, value in wanted.items()})
    except UnknownPartnership:
        return message(request, 404, "Not found", "There is nothing here, or nothing you may see.")
    except UsageError as exc:
        status, problem = 400, str(exc)
        seen = lessons.for_person(service.store, service.settings, identity, reads=service.reads)
        seen = lessons.Seen([], seen.missions, seen.shareable_only)
    if not seen.missions:
        return message(request, 403, "No lessons to show",
                       "The lessons register is for mission staff, mission directors, delegates and admins, "
                       "and for the partners of a partnership.")
    number = _page_number(page)
    newest = seen.lessons[::-1]
    pages = max(1, -(-len(newest) // PAGE_SIZE))
    number = min(number, pages)
    return render(request, "lessons.html", status, title="Lessons learned", problem=problem, wanted=wanted,
                  missions=seen.missions, principles=PRINCIPLES, shareable_only=seen.shareable_only,
                  total=len(newest), items=newest[(number - 1) * PAGE_SIZE:number * PAGE_SIZE],
                  page=number, pages=pages,
                  query={k: v for k, v in wanted.items() if v})
