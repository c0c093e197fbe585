"""A seeded generator of partnership documents for benchmarks.

Documents start from the rules' healthy base document (rules/cases-base.yaml) and
take k of the rules' own bad-case changes, so every generated document is valid and
its findings are realistic. ``healthy``: k in 0..6 (about three findings each);
``failing``: k in 8..16.
"""

import random
from datetime import date

from isp_lifecycle.cases import apply, load_cases
from isp_lifecycle.document import validate
from isp_lifecycle.rulepack import load_pack

SEED = 20261127
AS_OF = date(2026, 11, 27)


def documents(n: int, kind: str = "healthy", seed: int = SEED):
    pack = load_pack()
    base, cases = load_cases(pack.root, pack)
    bad = [c for c in cases if c.kind == "bad" and c.as_of == AS_OF]
    rng = random.Random(seed)
    low, high = (0, 6) if kind == "healthy" else (8, 16)
    out = []
    while len(out) < n:
        k = rng.randint(low, high)
        changes = {}
        for case in rng.sample(bad, k):
            changes.update(case.changes)
        try:
            data = apply(base, changes)
        except (KeyError, IndexError, TypeError):
            continue
        data["id"] = f"gen-{kind}-{len(out):05d}"
        try:
            out.append(validate(data))
        except Exception:
            continue
    return out
