"""The service layer in one namespace: every front end (the CLI, the flows, the web layer)
calls these, never the store's tables. Each command is one transaction.

    import_document   bring a document in (a new partnership, or a new version of a known one)
    import_documents  bring many in, several hundred per transaction, each with its own outcome
    record_evaluation record a verdict (the JSON of ``isp check --format json``)
    evaluate_gate     run a gate through an evaluator you pass, and record its verdict
    check_can_advance the refusals of ``isp advance``, asked before any workflow starts
    request_approval  ask to leave the current stage (after a passing evaluation)
    decide            the mission director's (or a delegate's) approval or rejection
    move_stage        apply an approved move: a new document version in the new stage
    close             ``move_stage(..., to="closed")``
    decide_and_apply  a decision and, when approved, its move, in one transaction

and the read views (``views``): ``export_document``, ``list_partnerships``, ``show``,
``history``, ``pending_requests``, ``verify_audit``, ``missions``, ``mission_named``.

Refusals raise ``RefusedOperation`` (exit 1) with a ``reason`` code. A refusal about a
known partnership leaves the store as it was except for one audit entry recording it,
written after the rollback. An unknown id (``UnknownPartnership``) or an invalid document
writes nothing at all. Every change bumps the partnership's ``row_version``; a concurrent
change to the same partnership makes the later commit fail with ``StaleUpdate``, never
both succeed.
"""

from __future__ import annotations

from .commands import (
    AdvancePlan,
    Evaluator,
    check_can_advance,
    evaluate_gate,
    record_evaluation,
    request_approval,
)
from .decisions import Decided, close, decide, decide_and_apply, move_stage
from .imports import BATCH as IMPORT_BATCH
from .imports import ImportResult, import_document, import_documents
from .uow import Clock, UnitOfWork, canonical_document, default_actor, sha256_text, stored_document, utcnow
from .views import (
    HistoryEntry,
    Missions,
    PartnershipDetail,
    PartnershipSummary,
    PendingRequest,
    approvers,
    export_document,
    history,
    list_partnerships,
    mission_named,
    missions,
    pending_requests,
    show,
    verify_audit,
)

__all__ = [
    "IMPORT_BATCH", "AdvancePlan", "Clock", "Decided", "Evaluator", "HistoryEntry", "ImportResult", "Missions",
    "PartnershipDetail", "PartnershipSummary", "PendingRequest", "UnitOfWork", "approvers", "canonical_document",
    "check_can_advance", "close", "decide", "decide_and_apply", "default_actor", "evaluate_gate",
    "export_document", "history", "import_document", "import_documents", "list_partnerships", "mission_named", "missions", "move_stage", "pending_requests",
    "record_evaluation", "request_approval", "sha256_text", "show", "stored_document", "utcnow", "verify_audit",
]
