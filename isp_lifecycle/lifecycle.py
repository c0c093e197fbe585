"""The lifecycle as code: stages, the moves allowed between them, and which gate each move passes.

``convene → commit → implement → review``, then ``review → implement`` (the next cycle) or
``review → closed``. Nothing else. Leaving a stage passes through that stage's gate, except
``review → closed``, which needs an approval but no rules.
"""

from __future__ import annotations

import os

from .errors import RefusedOperation, UsageError

STAGES: tuple[str, ...] = ("convene", "commit", "implement", "review", "closed")
GATES: tuple[str, ...] = ("convene", "commit", "implement", "review")

MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        ("convene", "commit"),
        ("commit", "implement"),
        ("implement", "review"),
        ("review", "implement"),
        ("review", "closed"),
    }
)

_DEFAULT_NEXT = {"convene": "commit", "commit": "implement", "implement": "review", "review": "implement"}


def is_allowed(source: str, target: str) -> bool:
    return (source, target) in MOVES


def next_stage(stage: str) -> str | None:
    """The default next stage (``review`` goes on to a new ``implement`` cycle); ``None`` once closed."""
    return _DEFAULT_NEXT.get(stage)


def gate_of(stage: str) -> str | None:
    """The gate passed when leaving ``stage``; ``None`` for ``closed``."""
    return stage if stage in GATES else None


def gate_for_move(source: str, target: str) -> str | None:
    """The gate whose passing verdict a move needs; ``None`` when the move needs approval only."""
    check_move(source, target)
    return None if target == "closed" else gate_of(source)


def check_move(source: str, target: str) -> None:
    """Raise ``RefusedOperation`` unless ``source → target`` is an allowed move."""
    if not is_allowed(source, target):
        allowed = sorted(t for s, t in MOVES if s == source)
        hint = f"; from {source} a partnership may move to {', '.join(allowed)}" if allowed else f"; {source} is final"
        raise RefusedOperation(f"the move {source} → {target} is not allowed{hint}")


def remind_days() -> int:
    """``ISP_REMIND_DAYS`` (default 7): an undecided approval older than this is reminded and flagged
    ``approval-pending``; after twice that it is escalated."""
    raw = os.environ.get("ISP_REMIND_DAYS", "7")
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise UsageError(f"ISP_REMIND_DAYS must be a whole number of days (0 or more), not {raw!r}")
    return days
