"""What changed between two versions of a partnership document, in words a director reads.

A director approving a move wants to know what is different from what was approved at the
previous gate, not a line diff of canonical JSON. Both versions are flattened to paths
(``partners[2].contacts[0].email``, the same paths ``isp check`` names) and compared: each
change says where, what it was and what it is now. Paths come in document order (keys
sorted as stored, list items by index); lists of people and partners are matched by position, which keeps the paths identical to the ones findings and errors use.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any

MAX_VALUE = 300  # characters of a value shown; the full document is one click away
MAX_CHANGES = 200  # a page is for reading: beyond this, say how many more changed


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | removed | changed
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Diff:
    before_version: int | None
    after_version: int
    changes: tuple[Change, ...]
    more: int = 0  # changes left out past MAX_CHANGES

    @property
    def empty(self) -> bool:
        return not self.changes


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        if not value and path:
            out[path] = {}
        for key in sorted(value):
            _flatten(value[key], f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        if not value and path:
            out[path] = []
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` → ``{"a.b[0]": 1}``: every leaf under its path."""
    out: dict[str, Any] = {}
    _flatten(data, "", out)
    return out


def _shown(value: Any) -> str | None:
    if value is None:
        return "(empty)"
    if value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def diff(before: dict[str, Any] | None, after: dict[str, Any], *, before_version: int | None = None,
         after_version: int = 0) -> Diff:
    """The changes from ``before`` to ``after`` (document data); ``before`` None: nothing to compare."""
    if before is None:
        return Diff(None, after_version, ())
    old, new = flatten(before), flatten(after)
    changes = []
    for path in sorted(old.keys() | new.keys(), key=_natural):
        if path not in new:
            changes.append(Change(path, "removed", _shown(old[path]), None))
        elif path not in old:
            changes.append(Change(path, "added", None, _shown(new[path])))
        elif old[path] != new[path]:
            changes.append(Change(path, "changed", _shown(old[path]), _shown(new[path])))
    return Diff(before_version, after_version, tuple(changes[:MAX_CHANGES]), max(0, len(changes) - MAX_CHANGES))


def _natural(path: str) -> list[tuple[int, int | str]]:
    """``partners[10]`` after ``partners[9]``: list indexes compare as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\[\]]+", path) if part]
