"""Where each field of a YAML or JSON document sits in its text, so that a problem found by
path (``partners[1].sector``) is shown where its author wrote it (line 14, column 5), in the
CLI's ``FILE:LINE:COLUMN:`` lines and on the web upload's "Line 14, partners[1].sector".

``positions(text)`` maps the path of every key and list item, written as the problems write
them (``document.format_path``), to its 1-based ``(line, column)``; ``nearest(where, path)``
gives the entry of ``path``, else of its nearest parent that has one (a missing key: the
mapping that lacks it); ``located`` and ``problem_line`` put them on a document's problems. Text that does not parse maps nothing (a syntax error names its own
line). Only the text of an invalid document is read here, after the intake limits have
judged it: aliases are walked once, however often they are used.
"""

from __future__ import annotations

from typing import Any, TypeVar

from .document import DOCUMENT
from .encoding import key_text
from .errors import Problem

T = TypeVar("T")
Place = tuple[int, int]


def located(text: str | None, problems: list[Problem]) -> list[tuple[Problem, Place | None]]:
    """Each problem with the (line, column) of its path in ``text`` (``None`` where the text
    does not say: a problem of the whole document, a missing top-level field, no text)."""
    if text is None or all(problem.path == DOCUMENT for problem in problems):
        return [(problem, None) for problem in problems]
    where = positions(text)
    return [(problem, nearest(where, problem.path)) for problem in problems]


def problem_line(source: str, problem: Problem, place: Place | None) -> str:
    """``SOURCE:LINE:COLUMN: PATH: MESSAGE`` (as compilers write it, so editors jump there), or
    ``SOURCE: PATH: MESSAGE`` when the place is not known."""
    where = f"{source}:{place[0]}:{place[1]}" if place else source
    return f"{where}: {problem}"


def positions(text: str) -> dict[str, Place]:
    """Path → (line, column), both 1-based, of every key and list item of a YAML or JSON text."""
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="rt", pure=True).load(text)
    except Exception:  # any parse failure, however deep: the problems themselves say where
        return {}
    found: dict[str, Place] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if not hasattr(node, "lc") or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            children = [(f"{path}.{key_text(key)}" if path else key_text(key), key, node.lc.key) for key in node]
        elif isinstance(node, list):
            children = [(f"{path}[{index}]", index, node.lc.item) for index in range(len(node))]
        else:
            continue
        for where, key, place in children:
            try:
                line, column = place(key)
                found.setdefault(where, (line + 1, column + 1))
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            stack.append((node[key], where))
    return found


def nearest(where: dict[str, T], path: str) -> T | None:
    """The entry of ``path``, else of its nearest parent that has one."""
    while path:
        if path in where:
            return where[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
