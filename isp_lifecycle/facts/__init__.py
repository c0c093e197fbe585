"""The facts projection: a document, a gate and a date → the flat values rules compare.

Rules never see the document. They compare the scalars here (counts, booleans,
day differences), so that the engine does no arithmetic, no date handling and no
list walking (``docs/rules.md`` explains why). Lists of offending things ride along
as finding lists so that a rule that fires can report one finding per partner,
initiative or milestone; those lists are JSON-safe but are never sent to the engine.

Every fact is declared once, in its gate's module (``convene``, ``commit``, ``implement``,
``review``), by the function that computes it and the kind it is: a **scalar** (``int`` or
``bool``: what conditions compare), a **finding list** (with the keys each item carries, so
the rule loader can check a message's ``{placeholders}``; a counted list also yields the
scalar ``<name>_count``), or a **message parameter** (a string only messages read).
``SCALARS``, ``FINDING_LISTS`` and ``PARAMETERS`` are derived from that catalogue; the rule
loader refuses any other name, and the property test draws random facts from ``SCALARS``.

The reading rules of ``docs/spec/gates.md`` live in this package and nowhere else:
- events dated after ``as_of`` have not happened (signatures, agreements, vision
  dates, milestone ``done``, dissemination, review and training dates);
- windows are inclusive: ``as_of - 365 ≤ date ≤ as_of``;
- "3 years" is calendar years, 29 February reaching 28 February;
- a blank string counts as missing; contacts are counted by distinct email.
"""

from datetime import date
from typing import Any

from ..model import Partnership
from . import commit, convene, implement, review  # noqa: F401  (declare their facts, gate by gate)
from .catalogue import (  # noqa: F401  (add_years and happened: the reading rules others use)
    CATALOGUE,
    FINDING_LIST,
    PARAMETER,
    SCALAR,
    Fact,
    Reading,
    add_years,
    happened,
)

from ..vocabulary import GATES  # noqa: E402  (re-exported: the rule loader reads it here)

FACTS: dict[str, Fact] = {fact.name: fact for fact in CATALOGUE}
SCALARS: dict[str, type] = {f.name: f.type for f in CATALOGUE if f.kind == SCALAR}
FINDING_LISTS: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == FINDING_LIST)
PARAMETERS: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == PARAMETER)
_COMPUTE = tuple((fact.name, fact.compute) for fact in CATALOGUE)


def project(doc: Partnership, as_of: date, government_core: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """All facts for ``doc`` as of ``as_of``: every name of the catalogue, in its order.

    ``government_core`` is the rule pack's vocabulary of responsibilities that only
    government may hold (rule data, not code).
    """
    reading = Reading(doc, as_of, government_core)
    f: dict[str, Any] = {}
    for name, compute in _COMPUTE:
        f[name] = compute(reading, f)
    return f
