"""Reading ``isp/v1`` documents: YAML 1.2 or JSON text → a validated ``Partnership``.

Every problem is collected, not just the first: field errors from the models and
cross-reference errors (duplicate ids, unknown partner ids, date order) come back
together in one ``InvalidDocument`` whose ``problems`` name each field by path.

Text that comes in (``load``, ``loads``) first meets the intake limits of ``limits`` (size,
nesting, ``%YAML``, Unicode, control characters, emails); ``validate`` alone reads versions
already stored, which must stay readable even when a later limit would refuse them.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any

from .encoding import key_text, quote
from .errors import InvalidDocument, Problem, UnreadableDocument
from .limits import (
    MAX_BYTES, MAX_DEPTH, TOO_DEEP, TOO_EXPANDED, TOO_LARGE, expands_too_far, intake_problems, size_problem,
    yaml_version_problem,
)

DOCUMENT = "(document)"


# --------------------------------------------------------------------------- YAML

_yaml = None
# A ruamel YAML object keeps per-load state on itself: one load at a time.
_yaml_lock = threading.Lock()


def _yaml_loader():
    """A YAML 1.2 safe loader that keeps dates as text (the models parse them, with paths)
    and refuses to compose nodes deeper than ``limits.MAX_DEPTH`` (ruamel's composer recurses
    once per level: a 10,000-deep flow list would end in a ``RecursionError``)."""
    global _yaml
    if _yaml is None:
        from ruamel.yaml import YAML
        from ruamel.yaml.composer import Composer
        from ruamel.yaml.constructor import SafeConstructor

        class _Constructor(SafeConstructor):
            pass

        class _Composer(Composer):
            depth = 0

            def compose_document(self):
                self.depth = 0
                node = super().compose_document()
                if self.anchors and expands_too_far(node):  # anchors are kept until the document ends
                    raise TooDeep(TOO_EXPANDED)
                return node

            def compose_sequence_node(self, anchor):
                return self._nested(super().compose_sequence_node, anchor)

            def compose_mapping_node(self, anchor):
                return self._nested(super().compose_mapping_node, anchor)

            def _nested(self, compose, anchor):
                self.depth += 1
                try:
                    if self.depth > MAX_DEPTH:
                        raise TooDeep(TOO_DEEP)
                    return compose(anchor)
                finally:
                    self.depth -= 1

        _Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
        loader = YAML(typ="safe", pure=True)
        loader.version = (1, 2)
        loader.Constructor = _Constructor
        loader.Composer = _Composer
        _yaml = loader
    return _yaml


class TooDeep(ValueError):
    """The YAML composer met a node nested deeper than the limit, or aliases that expand the
    document beyond it; the message is the problem of ``(document)``."""


def _syntax_problem(exc: Exception) -> Problem:
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(exc, DuplicateKeyError):
        mark = exc.problem_mark
        return Problem(DOCUMENT, f"{exc.problem} (line {mark.line + 1}): a key may appear only once")
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "malformed YAML"
        return Problem(DOCUMENT, f"YAML syntax error{where}: {key_text(what, 200)}")
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Problem(DOCUMENT, f"YAML syntax error: {key_text(first, 200)}")


def _json_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f'duplicate key "{key}": a key may appear only once')
        out[key] = value
    return out


def parse_text(text: str, *, json_only: bool = False) -> Any:
    """Parse document text (JSON is YAML); raise ``InvalidDocument`` with path ``(document)``."""
    if json_only:
        try:
            return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_json_no_duplicates)
        except json.JSONDecodeError as exc:
            raise InvalidDocument(
                [Problem(DOCUMENT, f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
            ) from None
        except RecursionError:  # the C decoder stops itself cleanly, far deeper than the limit
            raise InvalidDocument([Problem(DOCUMENT, TOO_DEEP)]) from None
        except ValueError as exc:
            raise InvalidDocument([Problem(DOCUMENT, str(exc))]) from None
    from ruamel.yaml.error import YAMLError

    try:
        return read_yaml(text)
    except TooDeep as exc:
        raise InvalidDocument([Problem(DOCUMENT, str(exc))]) from None
    except (YAMLError, ValueError) as exc:
        raise InvalidDocument([_syntax_problem(exc)]) from None


def read_yaml(text: str) -> Any:
    """Read YAML 1.2 text with the shared loader (dates kept as text): every YAML reading of
    the project goes through here. Malformed text raises ruamel's ``YAMLError``; a ``%YAML``
    directive other than 1.2 raises ``InvalidDocument``."""
    problem = yaml_version_problem(text) if "%" in text else None
    if problem:
        raise InvalidDocument([problem])
    loader = _yaml_loader()
    with _yaml_lock:
        # ruamel remembers a document's %YAML directive on the loader, so it would read
        # every later document as that version too: reset it on both sides of each load.
        loader.version = (1, 2)
        try:
            data = loader.load(text)
        finally:
            loader.version = (1, 2)
    return data


# ------------------------------------------------------------------ error paths

def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + key_text(part)
    return out or DOCUMENT


def _allowed_fields(model: type, loc: tuple[Any, ...]) -> list[str]:
    """Field names (aliases) valid at the mapping that holds ``loc[-1]``."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        annotation = field.annotation
        # unwrap Optional[...] and list[...]
        for _ in range(3):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if get_origin(annotation) is not None and args:
                annotation = args[0]
        current = annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _message(error: dict[str, Any], model: type) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, tuple(error["loc"]))
        import difflib  # only for an unknown key's "did you mean"

        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown field{hint}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected}"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_type", "finite_number"):
        return "must be a (finite) number"
    if kind == "string_type":
        return "must be text"
    if kind == "list_type":
        return "must be a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a mapping of fields"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt'):g}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge'):g}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][0].lower() + error["msg"][1:]


# ---------------------------------------------------------- cross-references

def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            return None
    return None


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def cross_reference_problems(data: dict[str, Any]) -> list[Problem]:
    """Problems that involve more than one field; tolerant of fields that are themselves bad."""
    problems: list[Problem] = []
    partner_ids: set[str] = set()
    for i, partner in _dicts(data.get("partners")):
        pid = partner.get("id")
        if isinstance(pid, str):
            if pid in partner_ids:
                problems.append(Problem(f"partners[{i}].id", f"duplicate partner id {quote(pid)}"))
            partner_ids.add(pid)
        commitment = partner.get("commitment")
        if isinstance(commitment, dict):
            signed, until = _as_date(commitment.get("signed")), _as_date(commitment.get("until"))
            if signed and until and until < signed:
                problems.append(
                    Problem(f"partners[{i}].commitment.until", f"{until} is before the commitment was signed ({signed})")
                )

    for i, leader in _dicts(data.get("leaders")):
        ref = leader.get("partner")
        if isinstance(ref, str) and ref not in partner_ids:
            problems.append(Problem(f"leaders[{i}].partner", f"names no partner: {quote(ref)} is not a partner id"))

    initiative_ids: set[str] = set()
    for i, initiative in _dicts(data.get("initiatives")):
        iid = initiative.get("id")
        if isinstance(iid, str):
            if iid in initiative_ids:
                problems.append(Problem(f"initiatives[{i}].id", f"duplicate initiative id {quote(iid)}"))
            initiative_ids.add(iid)
        members = initiative.get("partners")
        member_ids = [m for m in members if isinstance(m, str)] if isinstance(members, list) else []
        for j, member in enumerate(members if isinstance(members, list) else []):
            if isinstance(member, str) and member not in partner_ids:
                problems.append(
                    Problem(f"initiatives[{i}].partners[{j}]", f"names no partner: {quote(member)} is not a partner id")
                )
        lead = initiative.get("lead")
        if isinstance(lead, str):
            if lead not in partner_ids:
                problems.append(Problem(f"initiatives[{i}].lead", f"names no partner: {quote(lead)} is not a partner id"))
            elif isinstance(members, list) and lead not in member_ids:
                problems.append(
                    Problem(f"initiatives[{i}].lead", f"the lead {quote(lead)} must also be listed in the initiative's partners")
                )

    started, entered = _as_date(data.get("started")), _as_date(data.get("stage_entered"))
    if started and entered and entered < started:
        problems.append(Problem("stage_entered", f"{entered} is before the partnership started ({started})"))
    return problems


# ------------------------------------------------------------------ validation

def validate(data: Any, source: str = ""):
    """Validate parsed data into a ``Partnership``; raise ``InvalidDocument`` listing every problem.
    Without the intake limits: this is how stored versions are read (see ``intake``)."""
    from pydantic import ValidationError

    from .model import Partnership

    if data is None:
        raise InvalidDocument([Problem(DOCUMENT, "the document is empty")], source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        raise InvalidDocument([Problem(DOCUMENT, f"must be a mapping of fields, found {kind}")], source)
    problems: list[Problem] = []
    doc = None
    try:
        doc = Partnership.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(format_path(tuple(e["loc"])), _message(e, Partnership)) for e in exc.errors()]
    problems += cross_reference_problems(data)
    if problems:
        raise InvalidDocument(problems, source)
    return doc


def intake(data: Any, source: str = ""):
    """Validate a document that comes in (a file, standard input, an upload): the intake limits
    first (a too-deep document stops there), then the models. A field that breaks a limit is
    reported once, by the limit; every other problem is reported as ``validate`` finds it."""
    limited = intake_problems(data)
    if limited and limited[0].message == TOO_DEEP:
        raise InvalidDocument(limited, source)
    try:
        doc = validate(data, source)
    except InvalidDocument as exc:
        paths = {p.path for p in limited}
        limited += [p for p in exc.problems if p.path not in paths]
        raise InvalidDocument(limited, source) from None
    if limited:
        raise InvalidDocument(limited, source)
    return doc


def loads(text: str, source: str = "", *, json_only: bool = False):
    """Read and validate document text as it comes in: size first, then syntax, then ``intake``."""
    try:
        too_large = size_problem(text)
        if too_large:
            raise InvalidDocument([too_large])
        data = parse_text(text, json_only=json_only)
    except InvalidDocument as exc:
        raise InvalidDocument(exc.problems, source) from None
    return intake(data, source)


def decode(raw: bytes, source: str) -> str:
    """Document bytes as text: at most ``MAX_BYTES`` (a larger document is invalid, whatever its
    encoding), UTF-8 (anything else is unreadable)."""
    if len(raw) > MAX_BYTES:
        raise InvalidDocument([Problem(DOCUMENT, TOO_LARGE)], source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(source, f"not UTF-8 text (byte {exc.start})") from None


def read_stream(stream, source: str = "-") -> str:
    """A document from a binary stream (standard input), reading no more than the limit allows."""
    return decode(stream.read(MAX_BYTES + 1), source)


def read_text(path: str | Path, source: str | None = None) -> str:
    """Read a document file as UTF-8, no more than the limit allows; ``UnreadableDocument``
    when that is impossible, ``InvalidDocument`` when it is larger than 1 MiB."""
    source = str(path) if source is None else source
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UnreadableDocument(source, "no such file") from None
    except IsADirectoryError:
        raise UnreadableDocument(source, "is a directory, not a document") from None
    except PermissionError:
        raise UnreadableDocument(source, "permission denied") from None
    except OSError as exc:
        raise UnreadableDocument(source, exc.strerror or str(exc)) from None
    return decode(raw, source)


def load(path: str | Path, source: str | None = None):
    """Load and validate one document file (``.json`` as JSON, anything else as YAML 1.2)."""
    text = read_text(path, source)
    return loads(text, str(path) if source is None else source, json_only=str(path).endswith(".json"))
