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


class Refusal(StrEnum):
    """Why a command was refused (``RefusedOperation.reason``): front ends map these codes to
    their own answers (an exit code, an HTTP status) instead of parsing messages."""

    REFUSED = "refused"  # any other refusal
    STALE = "stale"  # the document changed since, or someone else changed it first
    NO_NEXT_STAGE = "no-next-stage"
    MOVE_NOT_ALLOWED = "move-not-allowed"
    TO_ONLY_FROM_REVIEW = "to-only-from-review"
    NO_MISSION_DIRECTOR = "no-mission-director"
    OPEN_REQUEST = "open-request"
    GATE_NOT_EVALUATED = "gate-not-evaluated"
    GATE_BLOCKED = "gate-blocked"
    NO_PENDING_REQUEST = "no-pending-request"
    NOT_AN_APPROVER = "not-an-approver"
    REQUESTER_DECIDES = "requester-decides"
    NOT_SIGNED_IN = "not-signed-in"
    NOT_APPROVED = "not-approved"
    STAGE_CHANGED_BY_IMPORT = "stage-changed-by-import"


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
