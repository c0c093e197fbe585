"""The machinery of the facts catalogue: what a fact is, how one is declared, what each reads.

A fact is declared once, by the function that computes it, with one of three decorators:
``@scalar(int|bool)``, ``@finding_list(keys..., counted=, cases=)`` or ``@parameter``. Each
gate's facts live in a module of their own (``convene``, ``commit``, ``implement``, ``review``);
``isp_lifecycle.facts`` imports them in that order and derives ``SCALARS``, ``FINDING_LISTS``
and ``PARAMETERS`` from ``CATALOGUE``.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ..model import Partnership

SECTOR_NAMES = {"public": "government (public)", "private": "business (private)", "civil_society": "civil society"}

SCALAR, FINDING_LIST, PARAMETER = "scalar", "finding list", "message parameter"


class Fact:
    """One declared fact. ``keys``: for a finding list, the keys every item may carry;
    ``cases``: for a list whose items name a ``case``, the keys an item of each case carries.

    A plain class rather than a dataclass: building a dataclass costs ``isp check`` start-up
    about half a millisecond, for nothing the catalogue needs.
    """

    __slots__ = ("name", "kind", "type", "compute", "keys", "cases")

    def __init__(self, name: str, kind: str, type_: type, compute: Callable[["Reading", dict[str, Any]], Any],
                 keys: frozenset[str] = frozenset(), cases: dict[str, frozenset[str]] | None = None) -> None:
        self.name, self.kind, self.type, self.compute = name, kind, type_, compute
        self.keys, self.cases = keys, cases or {}

    def __repr__(self) -> str:
        return f"Fact({self.name!r}, {self.kind})"


CATALOGUE: list[Fact] = []


def scalar(kind: type) -> Callable:
    """Declare a scalar fact (``int`` or ``bool``) computed by the decorated function."""

    def declare(fn: Callable) -> Callable:
        CATALOGUE.append(Fact(fn.__name__, SCALAR, kind, fn))
        return fn

    return declare


def parameter(fn: Callable) -> Callable:
    """Declare a message parameter: a string messages and subjects may name, never compared."""
    CATALOGUE.append(Fact(fn.__name__, PARAMETER, str, fn))
    return fn


def finding_list(*keys: str, counted: bool = True, cases: dict[str, tuple[str, ...]] | None = None) -> Callable:
    """Declare a finding list whose items carry ``subject`` and ``keys`` (and, per case, ``cases``).

    ``counted``: also declare the scalar ``<name>_count``, its length, for conditions.
    """

    def declare(fn: Callable) -> Callable:
        by_case = {case: frozenset(("subject", "case", *extra)) for case, extra in (cases or {}).items()}
        every = frozenset(("subject", *keys)).union(*by_case.values())
        CATALOGUE.append(Fact(fn.__name__, FINDING_LIST, list, fn, every, by_case))
        if counted:
            name = fn.__name__
            CATALOGUE.append(Fact(f"{name}_count", SCALAR, int, lambda _r, f: len(f[name])))
        return fn

    return declare


def has_text(text: str | None) -> bool:
    return bool(text and text.strip())


def add_years(day: date, years: int) -> date:
    """Calendar years; 29 February lands on 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def happened(day: date | None, as_of: date) -> bool:
    """An event dated after ``as_of`` has not happened yet (the review reads dates the same way)."""
    return day is not None and day <= as_of


def in_last_year(day: date | None, as_of: date) -> bool:
    return day is not None and as_of - timedelta(days=365) <= day <= as_of


def partner_item(p) -> dict[str, Any]:
    return {"subject": f"partners.{p.id}", "id": p.id, "name": p.name}


class Reading:
    """One document read as of one date, with what several facts share computed once."""

    __slots__ = ("doc", "as_of", "partners", "government_core", "latest")

    def __init__(self, doc: Partnership, as_of: date, government_core: frozenset[str] | set[str]) -> None:
        self.doc, self.as_of, self.government_core = doc, as_of, government_core
        self.partners = doc.partners
        past = [(r.date, k, r) for k, r in enumerate(doc.reviews) if r.date <= as_of]
        # (index, review) of the latest review dated on or before as_of, wherever it is listed
        self.latest = max(past, key=lambda t: (t[0], t[1]))[1:] if past else None


