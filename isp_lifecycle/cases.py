"""Rule cases: partial documents laid over a healthy base document.

A case goes through everything a real document does (YAML reading, validation,
the facts projection, the evaluator), so a case proves the rule, not hand-made facts.
``set`` maps a path (``partners[1].commitment.until``) to a value; ``null`` removes a
mapping key or a list item; an index one past the end appends.
"""

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import RulePackError

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for name, index in _TOKEN.findall(path):
        tokens.append(int(index) if index else name)
    return tokens


def apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for path, value in changes.items():
        tokens = parse_path(path)
        node: Any = doc
        for token in tokens[:-1]:
            node = node[token]
        last = tokens[-1]
        if value is None:
            if isinstance(node, list):
                del node[last]
            else:
                node.pop(last, None)
        elif isinstance(node, list) and last == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[last] = copy.deepcopy(value)
    return doc


@dataclass
class Case:
    rule: str
    kind: str  # "good" or "bad"
    name: str
    changes: dict[str, Any]
    gate: str
    as_of: date
    expect: list[str] = field(default_factory=list)
    severity: str | None = None
    source: str = ""

    @property
    def label(self) -> str:
        return f"{self.rule} {self.kind}: {self.name}"


def load_cases(root: Path, pack) -> tuple[dict[str, Any], list[Case]]:
    """The base document and every case of every rule in the pack at ``root``."""
    from .document import read_yaml

    base = read_yaml((root / "cases-base.yaml").read_text("utf-8"))
    base_as_of = date.fromisoformat(base["as_of"])
    cases: list[Case] = []
    for path in sorted(root.glob("*/ISP*.cases.yaml")):
        data = read_yaml(path.read_text("utf-8"))
        rule = pack.by_id.get(data.get("rule"))
        if rule is None:
            raise RulePackError(f"{path.name}: names no rule of the pack: {data.get('rule')!r}")
        for kind in ("good", "bad"):
            for entry in data.get(kind) or []:
                cases.append(
                    Case(
                        rule=rule.id, kind=kind, name=entry["name"], changes=entry.get("set") or {},
                        gate=entry.get("gate", rule.gate),
                        as_of=date.fromisoformat(entry["as_of"]) if entry.get("as_of") else base_as_of,
                        expect=list(entry.get("expect") or []), severity=entry.get("severity"),
                        source=path.relative_to(root).as_posix(),
                    )
                )
    return base["document"], cases


def document_for(base: dict[str, Any], case: Case):
    from .document import validate

    return validate(apply(base, case.changes), case.label)
