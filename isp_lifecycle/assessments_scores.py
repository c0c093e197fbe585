"""How partners' ratings add up: pure functions, no store (the health alerts use them too).

A rating is ``green`` (2), ``amber`` (1) or ``red`` (0). Several ratings combine into their
mean, rounded down to a rating: one green and one red make amber, two greens and a red make
amber too (1.33), so a single red is never hidden by a majority. A **sector's rating** of a
principle combines the ratings of that sector's contacts; the **partnership's rating**
combines the sectors' ratings (each sector counts once, however many contacts it has).

    combine(ratings)            -> rating or None (nothing rated)
    by_sector(rows)             -> {principle: {sector: rating}}  from (sector, principle, rating) rows
    overall(sectors)            -> the partnership's rating of one principle
    concerns(current, previous) -> [(principle, why)] for ``partners-concerned``
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

SCORE = {"red": 0, "amber": 1, "green": 2}
WORDS = ("red", "amber", "green")
SECTOR_NAMES = {"public": "public sector", "private": "private sector", "civil_society": "civil society"}
ORDER = tuple(SECTOR_NAMES)


def combine(ratings: Iterable[str]) -> str | None:
    scores = [SCORE[r] for r in ratings]
    if not scores:
        return None
    return WORDS[sum(scores) // len(scores)]


def by_sector(rows: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    """{principle: {sector: the sector's rating}} from (sector, principle, rating) rows."""
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for sector, principle, rating in rows:
        grouped[principle][sector].append(rating)
    return {p: {s: combine(sectors[s]) for s in sorted(sectors, key=_place)} for p, sectors in grouped.items()}


def _place(sector: str) -> int:
    return ORDER.index(sector) if sector in ORDER else len(ORDER)


def overall(sectors: dict[str, str]) -> str | None:
    return combine(sectors.values())


def concerns(current: dict[str, dict[str, str]], previous: dict[str, dict[str, str]] | None) -> list[tuple[str, str]]:
    """(principle, why) for each principle at least two sectors rate red, or whose partnership
    rating fell two steps (green to red) since the previous round of answers."""
    found = []
    for principle in sorted(current):
        sectors = current[principle]
        red = [s for s in ORDER if sectors.get(s) == "red"]
        before = overall(previous.get(principle, {})) if previous else None
        now = overall(sectors)
        if len(red) >= 2:
            names = " and ".join(SECTOR_NAMES.get(s, s) for s in red)
            found.append((principle, f"{len(red)} of {len(sectors)} sectors ({names}) rate it red"))
        elif before is not None and now is not None and SCORE[before] - SCORE[now] >= 2:
            found.append((principle, f"the partners' rating fell from {before} to {now} since the previous review"))
    return found
