"""The service commands that evaluate gates and ask for moves; each is one transaction.

    record_evaluation  record a gate verdict (the JSON of ``isp check --format json``)
    evaluate_gate      run a gate through an evaluator you pass, and record its verdict
    check_can_advance  the refusals of ``isp advance``, asked before any workflow starts
    request_approval   ask to leave the current stage (after a passing evaluation)

Imports are in ``imports``, decisions and moves in ``decisions``, read views in ``views``.
Refusals raise ``RefusedOperation`` (exit 1) with a ``reason`` code; a refusal about a known
partnership leaves the store as it was but for one audit entry (``uow.run_command``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from . import lifecycle, outbox
from .errors import RefusedOperation, StaleUpdate, UsageError
from .identity import Identity
from .model import Partnership
from .store import Store
from .store.models import ApprovalRequest, GateEvaluation, PartnershipRow
from .uow import (
    Clock,
    Repository,
    UnitOfWork,
    established,
    read,
    run_command,
    stored_document,
    utcnow,
)
from .vocabulary import Refusal, RequestStatus, Stage

Evaluator = Callable[[Partnership, str, date], dict[str, Any]]


# ------------------------------------------------------------------ gates

_VERDICT_KEYS = {"partnership", "gate", "as_of", "passed", "rules", "findings"}


def _check_verdict(verdict: dict[str, Any]) -> date:
    missing = _VERDICT_KEYS - set(verdict)
    if missing:
        raise UsageError(f"a verdict needs {', '.join(sorted(missing))}")
    if verdict["gate"] not in lifecycle.GATES:
        raise UsageError(f"unknown gate {verdict['gate']!r}: one of {', '.join(lifecycle.GATES)}")
    if not isinstance(verdict["passed"], bool) or not isinstance(verdict["findings"], list):
        raise UsageError("a verdict's passed must be true/false and its findings a list")
    rules = verdict["rules"]
    if not isinstance(rules, dict) or not {"version", "digest"} <= set(rules):
        raise UsageError("a verdict's rules must name their version and digest")
    try:
        return date.fromisoformat(verdict["as_of"])
    except (TypeError, ValueError):
        raise UsageError(f"a verdict's as_of must be a date YYYY-MM-DD, not {verdict['as_of']!r}") from None


def record_evaluation(
    store: Store,
    verdict: dict[str, Any],
    *,
    document_version: int | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> int:
    """Record a gate verdict against the current document version (refused as stale if the
    verdict was computed on ``document_version`` and the document has changed since)."""
    as_of = _check_verdict(verdict)
    partnership_id = verdict["partnership"]

    def work(tx: UnitOfWork) -> int:
        row = tx.partnership(partnership_id)
        if document_version is not None and document_version != row.current_version:
            raise StaleUpdate(
                f"{partnership_id} changed (version {document_version} → {row.current_version}) while its "
                f"{verdict['gate']} gate was evaluated; evaluate again"
            )
        evaluation = GateEvaluation(
            partnership_id=partnership_id,
            document_version=row.current_version,
            gate=verdict["gate"],
            as_of=as_of,
            passed=verdict["passed"],
            findings=verdict["findings"],
            rules_version=str(verdict["rules"]["version"]),
            rules_digest=str(verdict["rules"]["digest"]),
            created_by=tx.actor,
            created_at=tx.now,
        )
        tx.session.add(evaluation)
        tx.touch(row)
        if not evaluation.passed:
            leaders = outbox.for_event("gate-blocked", stored_document(tx.current(row)))
            tx.notify("gate-blocked", f"evaluation-{evaluation.id}", partnership_id, leaders, verdict)
        tx.audit(
            "evaluate",
            partnership_id,
            {
                "evaluation": evaluation.id,
                "gate": evaluation.gate,
                "as_of": as_of.isoformat(),
                "passed": evaluation.passed,
                "version": row.current_version,
                "rules_digest": evaluation.rules_digest,
            },
        )
        return evaluation.id

    return run_command(store, "evaluate", partnership_id, actor, clock, work)


def evaluate_gate(
    store: Store,
    partnership_id: str,
    evaluator: Evaluator,
    *,
    as_of: date,
    gate: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
    record_passed: bool = True,
) -> tuple[int | None, dict[str, Any]]:
    """Evaluate the current document with ``evaluator(doc, gate, as_of) -> verdict dict`` and record it.

    With ``record_passed=False`` a passing verdict is returned unrecorded (id ``None``): a
    front end can settle a blocked gate itself and leave a passing one to the workflow,
    which records it as part of its run."""

    def current(session: Session) -> tuple[Partnership, int]:
        repo = Repository(session)
        row = repo.partnership(partnership_id)
        return repo.current_document(row), row.current_version

    doc, version = read(store, current)
    gate = gate or lifecycle.gate_of(doc.stage)
    if gate is None:
        raise UsageError(f"{partnership_id} is closed: it has no gate to evaluate (name one)")
    verdict = evaluator(doc, gate, as_of)
    if verdict.get("partnership") != partnership_id or verdict.get("gate") != gate:
        raise UsageError(f"the evaluator answered for {verdict.get('partnership')}/{verdict.get('gate')}, not {partnership_id}/{gate}")
    if verdict.get("passed") and not record_passed:
        return None, verdict
    evaluation_id = record_evaluation(store, verdict, document_version=version, actor=actor, clock=clock)
    return evaluation_id, verdict

# ------------------------------------------------------------------ asking for a move

def target_of(row: PartnershipRow, to: str | None) -> str:
    """Where ``row`` would move: ``to``, else the default next stage; refused when closed or
    when the move is not allowed."""
    target = to or lifecycle.next_stage(row.stage)
    if target is None:
        raise RefusedOperation(f"{row.id} is {row.stage}: there is no stage to move to", Refusal.NO_NEXT_STAGE)
    lifecycle.check_move(row.stage, target)
    return target


def _require_director(partnership_id: str, doc: Partnership) -> None:
    if doc.mission_director is None:
        raise RefusedOperation(f"{partnership_id} has no mission_director: name one before it can be advanced",
                               Refusal.NO_MISSION_DIRECTOR)


def _refuse_open(partnership_id: str, request: ApprovalRequest, hint: str = "") -> RefusedOperation:
    return RefusedOperation(
        f"{partnership_id} already has an open approval request (#{request.id}, "
        f"{request.from_stage} → {request.to_stage}){hint}", Refusal.OPEN_REQUEST)


@dataclass(frozen=True)
class AdvancePlan:
    """What ``isp advance`` would do: leave ``stage`` for ``target`` through ``gate``
    (``None`` for ``review → closed``, which needs an approval only)."""

    partnership_id: str
    stage: str
    target: str
    gate: str | None


def check_can_advance(store: Store, partnership_id: str, to: str | None = None) -> AdvancePlan:
    """The refusals a front end asks before starting a workflow, in this order: an unknown id,
    ``to`` named outside ``review``, no stage to move to, an open request, no mission director."""

    def work(session: Session) -> AdvancePlan:
        repo = Repository(session)
        row = repo.partnership(partnership_id)
        if to and row.stage != Stage.REVIEW:
            raise RefusedOperation(f"{partnership_id} is in {row.stage}: --to chooses only when leaving review",
                                   Refusal.TO_ONLY_FROM_REVIEW)
        target = target_of(row, to)
        pending = repo.pending_request(partnership_id)
        if pending is not None:
            raise _refuse_open(partnership_id, pending, "; decide it with `isp approve`")
        _require_director(partnership_id, repo.current_document(row))
        return AdvancePlan(partnership_id, row.stage, target, lifecycle.gate_for_move(row.stage, target))

    return read(store, work)


def _passing_evaluation(repo: Repository, row: PartnershipRow, gate: str) -> GateEvaluation:
    """The latest evaluation of ``gate`` on the current version, refused unless it passed."""
    evaluation = repo.latest_evaluation(row.id, gate=gate, version=row.current_version)
    if evaluation is None:
        raise RefusedOperation(f"{row.id}: the {gate} gate has not been evaluated on version {row.current_version}",
                               Refusal.GATE_NOT_EVALUATED)
    if not evaluation.passed:
        raise RefusedOperation(f"{row.id}: the {gate} gate did not pass (evaluation #{evaluation.id})",
                               Refusal.GATE_BLOCKED)
    return evaluation


def request_approval(
    store: Store,
    partnership_id: str,
    *,
    requested_by: str,
    to: str | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
    identity: Identity | None = None,
) -> int:
    """Ask the director to approve leaving the current stage; needs a passing evaluation of the
    current stage's gate on the current document version (none for ``review → closed``)."""

    def work(tx: UnitOfWork) -> int:
        row = tx.partnership(partnership_id)
        target = target_of(row, to)
        doc = tx.repo.current_document(row)
        _require_director(partnership_id, doc)
        open_request = tx.repo.pending_request(partnership_id)
        if open_request is not None:
            raise _refuse_open(partnership_id, open_request)
        gate = lifecycle.gate_for_move(row.stage, target)
        evaluation = None if gate is None else _passing_evaluation(tx.repo, row, gate)
        request = ApprovalRequest(
            partnership_id=partnership_id,
            evaluation_id=evaluation.id if evaluation else None,
            document_version=row.current_version,
            from_stage=row.stage,
            to_stage=target,
            requested_by=requested_by,
            requested_at=tx.now,
            status=RequestStatus.PENDING.value,
        )
        tx.session.add(request)
        tx.touch(row)
        payload = {"partnership": partnership_id, "request": request.id, "from": row.stage, "to": target,
                   "requested_by": requested_by, "requested_at": tx.now.isoformat(), "gate": gate,
                   "as_of": evaluation.as_of.isoformat() if evaluation else None,
                   "findings": evaluation.findings if evaluation else [],
                   "rules_digest": evaluation.rules_digest if evaluation else None}
        tx.notify("approval-requested", f"request-{request.id}", partnership_id,
                  outbox.for_event("approval-requested", doc), payload)
        tx.audit(
            "request-approval",
            partnership_id,
            {"request": request.id, "evaluation": request.evaluation_id, "from": row.stage, "to": target,
             "requested_by": requested_by, "version": row.current_version},
            identity=identity,
        )
        return request.id

    identity = established(identity, requested_by)
    return run_command(store, "request-approval", partnership_id, actor or requested_by, clock, work,
                       identity=identity)
