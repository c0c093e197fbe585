"""Lessons partners gave in their self-assessments, for the lessons register (``lessons``).

A placeholder of the interface the register reads: the assessments (issue 19, items 1-4) put
their lessons here. Until then there are none.

``lessons(session, mission=, principle=, partnership=)`` returns one dict per lesson given,
``{"partnership", "mission", "date": datetime.date, "source": "assessment",
"principle": slug | None, "text", "shareable": bool}``; ``date`` is the day it was given.
"""

from __future__ import annotations


def lessons(session, *, mission: str | None = None, principle: str | None = None,
            partnership: str | None = None) -> list[dict]:
    return []
