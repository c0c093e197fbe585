"""``isp lessons``: the lessons register (``isp_lifecycle.lessons``) on the command line, and its
brief for dissemination (``isp_lifecycle.lessons_brief``).

Text for people (every value encoded for the terminal), or ``--format json``: one object per
lesson, per line, ``{"partnership", "mission", "date", "source", "principle", "text",
"shareable"}``, ordered by date, then partnership.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ..encoding import json_text, terminal
from .store import open_store


def _text(lesson, colour: bool) -> str:
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if colour else text

    tags = [lesson.source] + [t for t in (lesson.principle, None if lesson.shareable else "internal") if t]
    head = (f"{lesson.date.isoformat()}  {style(terminal(lesson.partnership), bold=True)}  "
            f"{terminal(lesson.mission)}  [{', '.join(tags)}]")
    body = terminal(lesson.text, keep_lines=True).replace("\n", "\n    ")
    return f"{head}\n    {body}"


def _nothing(mission, principle, partnership) -> str:
    scope = "".join([f" of mission {mission}" if mission else "", f" tagged {principle}" if principle else "",
                     f" of {partnership}" if partnership else ""])
    return f"no lessons{terminal(scope)} (documents record them under reviews[].lessons)"


def _brief(path: str, mission, principle, partnership) -> None:
    from .. import lessons_brief
    from ..notifications.render import PRINCIPLE_NAMES

    today = datetime.now(timezone.utc).date()
    with open_store() as store:
        html, count = lessons_brief.render(store, today, PRINCIPLE_NAMES, mission=mission, principle=principle,
                                           partnership=partnership)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    click.echo(f"{terminal(str(out))}: {count} shareable lesson{'' if count == 1 else 's'}")


@click.command("lessons")
@click.option("--mission", help="Only lessons of this mission's partnerships, e.g. USAID/Ghana (any case).")
@click.option("--principle", metavar="SLUG",
              help="Only lessons tagged with this handbook principle, e.g. share-information.")
@click.option("--partnership", "partnership_id", metavar="PARTNERSHIP_ID", help="Only this partnership's lessons.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
@click.option("--brief", metavar="FILE", type=click.Path(dir_okay=False, writable=True),
              help="Write the shareable lessons to FILE as a self-contained HTML brief for dissemination "
                   "(names no person) instead of listing them.")
def lessons(mission, principle, partnership_id, fmt, brief):
    """The lessons register: what partnerships learned, from their documents' reviews and from
    partners' assessments, ordered by date, then partnership.

    A lesson from a document carries its review's date, no principle, and is shareable; one
    from an assessment is tagged by its author, shareable beyond the partnership or internal.
    Exit 0 done, 2 an unknown mission, principle or partnership.
    """
    if brief:
        _brief(brief, mission, principle, partnership_id)
        return
    from .. import lessons as register

    with open_store() as store:
        found = register.register(store, mission=mission, principle=principle, partnership=partnership_id)
    if fmt == "json":
        for lesson in found:
            click.echo(json_text(lesson.to_json()))
        return
    if not found:
        click.echo(_nothing(mission, principle, partnership_id))
        return
    colour = sys.stdout.isatty()
    for lesson in found:
        click.echo(_text(lesson, colour))
