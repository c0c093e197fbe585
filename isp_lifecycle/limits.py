"""The intake limits of ``isp/v1`` documents (``docs/spec/partnership-format.md``, "Limits
and hostile input"): size, nesting, Unicode, control characters, single-line fields, emails.

They apply to what comes in (a file, standard input, an upload), not to versions already
stored: a version stored before a limit existed stays readable, so ``document.validate``
(used for stored versions) does not call these. Every check is a compiled regular
expression or a counter: ``isp check`` pays almost nothing for them, and nothing here
recurses, so a 10,000-deep document costs 32 steps, not a ``RecursionError``.
"""

from __future__ import annotations

import re
from typing import Any

from .encoding import key_text, quote
from .errors import Problem

DOCUMENT = "(document)"
MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_EMAIL = 254

MAX_EXPANDED = 100_000

TOO_LARGE = "larger than 1 MiB"
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels of mappings and lists"
TOO_EXPANDED = f"its aliases (*name) expand it to more than {MAX_EXPANDED:,} values"

# Surrogates are not Unicode scalar values; C0 and C1 controls are not text.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# RFC 5322 addr-spec in dot-atom form, ASCII only, a dot in the domain.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})+")

# Field shapes (list indexes written ``[]``) whose text may hold line feeds, carriage returns
# and tabs; a prefix ending in ``*`` covers everything under it.
MULTI_LINE = frozenset({
    ("local_context",),
    ("vision", "statement"),
    ("partners", "[]", "motives"),
    ("partners", "[]", "capacity_plan"),
    ("partners", "[]", "goals", "[]"),
    ("partners", "[]", "commitment", "resources", "[]", "description"),
    ("reviews", "[]", "lessons", "[]"),
    ("reviews", "[]", "assumptions_challenged", "[]"),
})
MULTI_LINE_UNDER = (("issue",), ("reviews", "[]", "outcomes"))
EMAILS = frozenset({
    ("mission_director", "email"),
    ("delegates", "[]", "email"),
    ("leaders", "[]", "email"),
    ("partners", "[]", "contacts", "[]", "email"),
})


def is_email(value: str) -> bool:
    """One dot-atom addr-spec, nothing around it (``fullmatch``: no trailing newline)."""
    return len(value) <= MAX_EMAIL and EMAIL.fullmatch(value) is not None


def email_problem(value: str) -> str | None:
    if is_email(value):
        return None
    if len(value) > MAX_EMAIL:
        return f"{quote(value)} is longer than {MAX_EMAIL} characters: not an email address"
    return f"{quote(value)} is not an email address (local@domain.tld)"


def text_problem(value: str, multi_line: bool) -> str | None:
    """Why a string breaks the Unicode or control-character rule, or None."""
    surrogate = _SURROGATE.search(value)
    if surrogate:
        return f"holds a lone surrogate (U+{ord(surrogate.group()):04X}), which is not Unicode text"
    control = (_CONTROL_MULTI_LINE if multi_line else _CONTROL).search(value)
    if control:
        code = ord(control.group())
        where = "" if multi_line else " (a single-line field: no line breaks or tabs)"
        return f"holds the control character U+{code:04X} at position {control.start()}{where}"
    return None


def _is_multi_line(shape: tuple[str, ...]) -> bool:
    return shape in MULTI_LINE or any(shape[:len(p)] == p and len(shape) > len(p) for p in MULTI_LINE_UNDER)


def _path(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + key_text(part)
    return out or DOCUMENT


def depth_problem(data: Any) -> Problem | None:
    """``(document)`` when mappings and lists nest deeper than ``MAX_DEPTH`` (the top is 1)."""
    stack = [(data, 1)]
    seen: set[int] = set()
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list)) or id(value) in seen:
            continue
        if depth > MAX_DEPTH:
            return Problem(DOCUMENT, TOO_DEEP)
        seen.add(id(value))
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)
    return None


def field_problems(data: Any) -> list[Problem]:
    """Every string (keys included) against the Unicode, control-character and email rules,
    reported at its path. Shared containers (YAML aliases) are visited once: no alias bomb."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[Any, ...], tuple[str, ...]]] = [(data, (), ())]
    seen: set[int] = set()
    while stack:
        value, parts, shape = stack.pop()
        if isinstance(value, str):
            why = text_problem(value, _is_multi_line(shape))
            if why is None and shape in EMAILS:
                why = email_problem(value)
            if why:
                problems.append(Problem(_path(parts), why))
            continue
        if not isinstance(value, (dict, list)) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, list):
            stack.extend((item, parts + (i,), shape + ("[]",)) for i, item in reversed(list(enumerate(value))))
            continue
        for key, item in reversed(list(value.items())):
            if isinstance(key, str) and (why := text_problem(key, False)):
                problems.append(Problem(_path(parts + (key,)), f"the field name {why}"))
                continue
            stack.append((item, parts + (key,), shape + (str(key),)))
    return problems


def intake_problems(data: Any) -> list[Problem]:
    """The limits a parsed document must meet before the models see it: nesting first (a
    deep document stops there), then every string."""
    deep = depth_problem(data)
    return [deep] if deep else field_problems(data)


_DIRECTIVE = re.compile(r"%YAML[ \t]+([^\s#]*)")


def yaml_version_problem(text: str) -> Problem | None:
    """A ``%YAML`` directive other than 1.2, read before the parser (which asserts on some)."""
    for line in text.lstrip("\ufeff").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not stripped.startswith("%"):
            return None
        found = _DIRECTIVE.match(stripped)
        if found and found.group(1) != "1.2":
            return Problem(DOCUMENT, f"the document declares %YAML {quote(found.group(1), 16)[1:-1]}, but isp/v1 "
                                     "documents are read as YAML 1.2 (where yes/no/NO are text): remove the "
                                     "%YAML line or make it %YAML 1.2")
    return None


def expands_too_far(root: Any) -> bool:
    """Whether a composed YAML node graph, aliases followed, holds more than ``MAX_EXPANDED``
    nodes. Aliases make a small text a huge document (a list of 1,000 aliases of a partner
    holding 1,000 aliases of a contact is a million contacts to validate); each distinct node
    is weighed once, so this costs one pass over the text's own nodes."""
    weight: dict[int, int] = {}
    entered: set[int] = set()  # a node met again while its children are weighed is a cycle: weight 0
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in weight or (not expanded and id(node) in entered):
            continue
        children = _children(node)
        if expanded or not children:
            weight[id(node)] = total = 1 + sum(weight.get(id(child), 0) for child in children)
            if total > MAX_EXPANDED:
                return True
        else:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in weight)
    return False


def _children(node: Any) -> list[Any]:
    """A node's children: a sequence's items, a mapping's keys and values, none for a scalar."""
    if isinstance(node.value, str):
        return []
    out: list[Any] = []
    for item in node.value:
        out.extend(item) if isinstance(item, tuple) else out.append(item)
    return out


def size_problem(text: str) -> Problem | None:
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Problem(DOCUMENT, TOO_LARGE)
    return None
