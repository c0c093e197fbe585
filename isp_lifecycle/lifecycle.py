"""The lifecycle as code: stages, the moves allowed between them, and which gate each move passes.

``convene → commit → implement → review``, then ``review → implement`` (the next cycle) or
``review → closed``. Nothing else. Leaving a stage passes through that stage's gate, except
``review → closed``, which needs an approval but no rules.
"""

from __future__ import annotations

from .errors import RefusedOperation
from .vocabulary import GATES, STAGES, Refusal, Stage

__all__ = ["GATES", "MOVES", "REVIEW_EXITS", "STAGES", "check_move", "gate_for_move", "gate_of", "is_allowed",
           "next_stage", "remind_days"]

MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        (Stage.CONVENE, Stage.COMMIT),
        (Stage.COMMIT, Stage.IMPLEMENT),
        (Stage.IMPLEMENT, Stage.REVIEW),
        (Stage.REVIEW, Stage.IMPLEMENT),
        (Stage.REVIEW, Stage.CLOSED),
    }
)
# leaving review is the one choice (``isp advance --to``): the next cycle first, the default
REVIEW_EXITS: tuple[str, ...] = (Stage.IMPLEMENT.value, Stage.CLOSED.value)

_DEFAULT_NEXT = {Stage.CONVENE: Stage.COMMIT, Stage.COMMIT: Stage.IMPLEMENT, Stage.IMPLEMENT: Stage.REVIEW,
                 Stage.REVIEW: Stage.IMPLEMENT}


def is_allowed(source: str, target: str) -> bool:
    return (source, target) in MOVES


def next_stage(stage: str) -> str | None:
    """The default next stage (``review`` goes on to a new ``implement`` cycle); ``None`` once closed."""
    target = _DEFAULT_NEXT.get(stage)
    return None if target is None else target.value


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
        raise RefusedOperation(f"the move {source} → {target} is not allowed{hint}", Refusal.MOVE_NOT_ALLOWED)


def remind_days() -> int:
    """``ISP_REMIND_DAYS`` (default 7): an undecided approval older than this is reminded and flagged
    ``approval-pending``; after twice that it is escalated. A bad value is a ``UsageError``."""
    from . import settings

    return settings.current().remind_days
