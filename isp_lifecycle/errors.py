"""Every error the project raises on purpose, in one hierarchy.

    IspError                   a user-facing problem; ``str()`` is one line, no traceback needed
    ├── InvalidDocument        an ``isp/v1`` document broke the format; ``problems`` lists each bad field
    ├── UnreadableDocument     the file is missing, a directory, or not UTF-8
    ├── UsageError             bad arguments (an unknown gate, a bad date, …)
    ├── RulePackError          a rule file is malformed (a bug in ``rules/``, not in the user's input)
    ├── UnknownPartnership     no partnership with that id in the store
    ├── StoreError             the store cannot be used (unreachable, not an isp store, schema too old/new)
    ├── RefusedOperation       a valid request the lifecycle refuses (exit 1): a forbidden move, …
    │   └── StaleUpdate        someone else changed the partnership first; read again and retry
    └── ReviewIncomplete       a portfolio review could not finish every chunk (exit 1); run it again

``RuleEngineError`` is not an ``IspError``: it means the engine itself misbehaved and
is a defect to report, so it keeps its traceback.

The CLI maps these to exit codes in one place (``isp_lifecycle.cli``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad field: ``path`` uses dots and 0-based indexes (``partners[2].sector``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class IspError(Exception):
    """A problem the user can fix; its message is one line that says what and where."""


class InvalidDocument(IspError):
    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        self.source = source
        first = problems[0] if problems else Problem("(document)", "invalid")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source + ': ' if source else ''}invalid document: {first}{more}")


class UnreadableDocument(IspError):
    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.problems = [Problem("(document)", reason)]
        super().__init__(f"{source}: cannot read: {reason}")


class UsageError(IspError):
    pass


class RulePackError(IspError):
    pass


class UnknownPartnership(IspError):
    def __init__(self, partnership_id: str) -> None:
        self.partnership_id = partnership_id
        super().__init__(f"no partnership {partnership_id!r} in the store (see `isp list`)")


class StoreError(IspError):
    """The store cannot be used as it is: unreachable, not an isp store, or a schema to upgrade."""


class RefusedOperation(IspError):
    """The request is understood but the lifecycle refuses it; the refusal is audited.

    ``reason`` is a short code (``vocabulary.Refusal``) a front end maps to its own answer
    (an HTTP status, a state message) without parsing the message."""

    exit_code = 1
    default_reason = "refused"

    def __init__(self, message: str = "", reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason


class StaleUpdate(RefusedOperation):
    """Another change to the same partnership was committed first."""

    default_reason = "stale"


class ReviewIncomplete(IspError):
    """Part of a portfolio review failed; what finished is kept and the same review run again
    completes the rest."""

    exit_code = 1


class RuleEngineError(RuntimeError):
    """The rules engine failed while evaluating (an action raised, or the engine misbehaved)."""
