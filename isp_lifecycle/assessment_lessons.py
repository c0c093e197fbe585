"""Lessons partners gave in their assessments, for the lessons register (``isp lessons``).

    lessons(session, mission=, principle=, partnership=) -> [{"partnership", "mission", "date",
        "source": "assessment", "principle", "text", "shareable"}], ordered by date, then partnership

``date`` is the day the lesson was given; ``mission`` is matched case-insensitively (the caller
refuses unknown missions). A lesson withdrawn before its assessment closed is gone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from .store.assessment_models import AssessmentLesson
from .store.models import PartnershipRow


def lessons(session, *, mission: str | None = None, principle: str | None = None,
            partnership: str | None = None) -> list[dict[str, Any]]:
    x, p = AssessmentLesson, PartnershipRow
    query = select(x.partnership_id, p.mission, x.given_on, x.principle, x.text, x.shareable).join(
        p, p.id == x.partnership_id)
    if mission is not None:
        query = query.where(func.lower(p.mission) == mission.lower())
    if principle is not None:
        query = query.where(x.principle == principle)
    if partnership is not None:
        query = query.where(x.partnership_id == partnership)
    rows = session.execute(query.order_by(x.given_on, x.partnership_id, x.id)).all()
    return [{"partnership": pid, "mission": m, "date": given, "source": "assessment", "principle": slug,
             "text": text, "shareable": bool(shareable)} for pid, m, given, slug, text, shareable in rows]
