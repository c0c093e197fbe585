"""The project's words, written once: stages, gates, severities and the statuses the store keeps.

Each is a ``StrEnum`` (its members are the very strings stored and printed, so
``Stage.COMMIT == "commit"``) with a ``Literal`` type beside it for signatures, and a tuple
of the values in their documented order. Standard library only: the ``isp check`` path
imports this module and must stay fast.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Stage(StrEnum):
    """The lifecycle's stages, in order (``docs/spec/partnership-format.md``)."""

    CONVENE = "convene"
    COMMIT = "commit"
    IMPLEMENT = "implement"
    REVIEW = "review"
    CLOSED = "closed"


class Gate(StrEnum):
    """The gates: one per stage but ``closed``, passed when leaving that stage (``gates.md``)."""

    CONVENE = "convene"
    COMMIT = "commit"
    IMPLEMENT = "implement"
    REVIEW = "review"


class Severity(StrEnum):
    """A finding's weight: ``blocking`` stops the gate, ``advisory`` is reported only."""

    BLOCKING = "blocking"
    ADVISORY = "advisory"


class RequestStatus(StrEnum):
    """An approval request: ``pending`` until decided; ``stale`` once its document changed."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    STALE = "stale"


class MessageStatus(StrEnum):
    """An outbox row: ``pending`` until delivered (``sent``) or given up on (``failed``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


StageName = Literal["convene", "commit", "implement", "review", "closed"]
GateName = Literal["convene", "commit", "implement", "review"]
SeverityName = Literal["blocking", "advisory"]
RequestStatusName = Literal["pending", "approved", "rejected", "stale"]
MessageStatusName = Literal["pending", "sent", "failed"]

STAGES: tuple[str, ...] = tuple(s.value for s in Stage)
GATES: tuple[str, ...] = tuple(g.value for g in Gate)
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
REQUEST_STATUSES: tuple[str, ...] = tuple(s.value for s in RequestStatus)
MESSAGE_STATUSES: tuple[str, ...] = tuple(s.value for s in MessageStatus)
