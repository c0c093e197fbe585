"""The lessons brief: the shareable lessons as one self-contained HTML file for dissemination
("disseminate best practices and information about ISPs"), naming no person.

    render(store, today, principle_names, mission=, principle=, partnership=) -> (html, how many)
    html_of(lessons, people, today, principle_names, scope)   the same, of lessons already chosen
                                                              (the web page's, for one reader)

``principle_names`` (slug → the handbook element's name) comes from the front end, which holds
the project's words for people (``notifications.render.PRINCIPLE_NAMES``).

Only shareable lessons go in (``lessons.shareable``): an internal one never does. What a brief
says of each: its date, the partnership (name and id), the mission, the principle it is tagged
with, and the text. No email, no contact or leader: and since a lesson is free text that may
repeat one, every email address in it, and every name a document of the portfolio gives a person
(the whole name and each capitalised part of it), is withheld before it is written. The file is
Jinja2 with autoescape (``templates/lessons_brief.html``): inline CSS, no script, no link, nothing
fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from . import lessons
from .store import Store

TEMPLATES = Path(__file__).with_name("templates")
WITHHELD = "[name withheld]"
EMAIL_WITHHELD = "[email withheld]"
# Anything shaped like an address, stricter documents or not: a brief errs on withholding.
_ANY_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_WORD = re.compile(r"\w+")  # "Mensah's", "Jean-Paul": each word alone
_RUNS = re.compile(rf"{re.escape(WITHHELD)}(?:[\s.,-]*{re.escape(WITHHELD)})+")


class Withholder:
    """Removes the people's names and emails from free text."""

    def __init__(self, people: Iterable[str]) -> None:
        self.parts: set[str] = set()
        for written in people:
            if "@" in written:
                continue  # emails: every address goes, whoever it belongs to
            self.parts |= {w for w in _WORD.findall(written) if len(w) > 1 and w[0].isupper()}

    def __call__(self, text: str) -> str:
        text = _ANY_EMAIL.sub(EMAIL_WITHHELD, text)
        if self.parts.isdisjoint(_WORD.findall(text)):
            return text  # most lessons name nobody: no word-by-word pass
        text = _WORD.sub(lambda m: WITHHELD if m.group() in self.parts else m.group(), text)
        return _RUNS.sub(WITHHELD, text)


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("lessons_brief.html")


def scope_words(mission: str | None, principle: str | None, partnership: str | None) -> str:
    said = [f"mission {mission}" if mission else "every mission"]
    if principle:
        said.append(f"the principle {principle}")
    if partnership:
        said.append(f"the partnership {partnership}")
    return ", ".join(said)


def render(store: Store, today: date, principle_names: Mapping[str, str], *, mission: str | None = None,
           principle: str | None = None, partnership: str | None = None) -> tuple[str, int]:
    found, people = lessons.shareable(store, mission=mission, principle=principle, partnership=partnership)
    shown_mission = found[0].mission if found and mission else mission
    return html_of(found, people, today, principle_names, scope_words(shown_mission, principle, partnership)), len(found)


def html_of(found: list[lessons.Lesson], people: Iterable[str], today: date, principle_names: Mapping[str, str],
            scope: str) -> str:
    """The brief of ``found`` (an internal lesson among them is left out), withholding ``people``."""
    withhold = Withholder(people)
    items = [{"date": lesson.date, "name": withhold(lesson.name), "partnership": lesson.partnership,
              "mission": lesson.mission, "text": withhold(lesson.text), "source": lesson.source,
              "principle": lesson.principle and principle_names.get(lesson.principle, lesson.principle)}
             for lesson in found if lesson.shareable]
    return _template().render(items=items, today=today, scope=scope,
                              partnerships=len({i["partnership"] for i in items}))
