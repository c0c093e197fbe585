"""What the store says, as typed read views every front end shows (the CLI, the web layer).

    export_document     a stored version, as a ``Partnership``
    list_partnerships   ``PartnershipSummary`` per partnership
    show                ``PartnershipDetail``: the summary, open approvals, latest findings
    history             ``HistoryEntry`` list, oldest first
    pending_requests    ``PendingRequest`` list: open approval requests, oldest first
    verify_audit        the audit chain's report
    missions            the missions of the stored partnerships, and how many are stored
    mission_named       a mission as a user typed it, as stored (or refused, naming the known ones)

Each view's ``to_json()`` is the JSON the CLI prints (``--format json``): its keys and their
order are part of the CLI's contract, so they are written out here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import UsageError
from .model import Partnership
from .store import Store, audit
from .store.models import ApprovalRequest, DocumentVersion, GateEvaluation, PartnershipRow, StageTransition
from .uow import Repository, read, stored_document, utcnow
from .vocabulary import RequestStatus, Severity


def export_document(store: Store, partnership_id: str, version: int | None = None) -> Partnership:
    def work(session: Session) -> Partnership:
        repo = Repository(session)
        row = repo.partnership(partnership_id)
        wanted = row.current_version if version is None else version
        stored = repo.version(partnership_id, wanted)
        if stored is None:
            raise UsageError(f"{partnership_id} has no version {wanted} (versions 1 to {row.current_version})")
        return stored_document(stored)

    return read(store, work)


@dataclass(frozen=True)
class LastVerdict:
    gate: str
    as_of: str
    passed: bool
    blocking: int

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "as_of": self.as_of, "passed": self.passed, "blocking": self.blocking}


@dataclass(frozen=True)
class PartnershipSummary:
    id: str
    name: str
    mission: str
    stage: str
    stage_entered: str
    days_in_stage: int
    version: int
    pending_approvals: int
    last_verdict: LastVerdict | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "mission": self.mission, "stage": self.stage,
                "stage_entered": self.stage_entered, "days_in_stage": self.days_in_stage, "version": self.version,
                "pending_approvals": self.pending_approvals,
                "last_verdict": None if self.last_verdict is None else self.last_verdict.to_json()}


@dataclass(frozen=True)
class OpenApproval:
    request: int
    from_stage: str
    to_stage: str
    requested_by: str
    requested_at: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "from": self.from_stage, "to": self.to_stage,
                "requested_by": self.requested_by, "requested_at": self.requested_at, "version": self.version}


@dataclass(frozen=True)
class PartnershipDetail:
    summary: PartnershipSummary
    open_approvals: tuple[OpenApproval, ...]
    findings: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.summary.to_json(), "open_approvals": [a.to_json() for a in self.open_approvals],
                "findings": list(self.findings)}


def _verdict(evaluation: GateEvaluation | None) -> LastVerdict | None:
    if evaluation is None:
        return None
    blocking = sum(1 for f in evaluation.findings if f.get("severity") == Severity.BLOCKING)
    return LastVerdict(evaluation.gate, evaluation.as_of.isoformat(), evaluation.passed, blocking)


def _summary(row: PartnershipRow, pending: int, evaluation: GateEvaluation | None, today: date) -> PartnershipSummary:
    return PartnershipSummary(row.id, row.name, row.mission, row.stage, row.stage_entered.isoformat(),
                              (today - row.stage_entered).days, row.current_version, pending, _verdict(evaluation))


def list_partnerships(
    store: Store, *, stage: str | None = None, mission: str | None = None, today: date | None = None
) -> list[PartnershipSummary]:
    """One summary per partnership, ordered by id: stage, days in it, pending approvals, last verdict."""
    today = today or utcnow().date()

    def work(session: Session) -> list[PartnershipSummary]:
        pending = (
            select(ApprovalRequest.partnership_id, func.count().label("n"))
            .where(ApprovalRequest.status == RequestStatus.PENDING)
            .group_by(ApprovalRequest.partnership_id)
            .subquery()
        )
        latest = (
            select(GateEvaluation.partnership_id, func.max(GateEvaluation.id).label("id"))
            .group_by(GateEvaluation.partnership_id)
            .subquery()
        )
        query = (
            select(PartnershipRow, pending.c.n, GateEvaluation)
            .outerjoin(pending, pending.c.partnership_id == PartnershipRow.id)
            .outerjoin(latest, latest.c.partnership_id == PartnershipRow.id)
            .outerjoin(GateEvaluation, GateEvaluation.id == latest.c.id)
            .order_by(PartnershipRow.id)
        )
        if stage:
            query = query.where(PartnershipRow.stage == stage)
        if mission:
            query = query.where(PartnershipRow.mission == mission)
        return [_summary(row, n or 0, evaluation, today) for row, n, evaluation in session.execute(query)]

    return read(store, work)


def show(store: Store, partnership_id: str, *, today: date | None = None) -> PartnershipDetail:
    """The summary plus open approval requests and the latest findings."""
    today = today or utcnow().date()

    def work(session: Session) -> PartnershipDetail:
        repo = Repository(session)
        row = repo.partnership(partnership_id)
        evaluation = repo.latest_evaluation(partnership_id)
        requests = repo.pending_requests(partnership_id)
        approvals = tuple(OpenApproval(r.id, r.from_stage, r.to_stage, r.requested_by, r.requested_at.isoformat(),
                                       r.document_version) for r in requests)
        findings = tuple(evaluation.findings) if evaluation else ()
        return PartnershipDetail(_summary(row, len(requests), evaluation, today), approvals, findings)

    return read(store, work)


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    event: str
    by: str
    detail: str


def _events(session: Session, partnership_id: str) -> list[tuple[datetime, int, str, str, str]]:
    def rows(model):
        return session.scalars(select(model).where(model.partnership_id == partnership_id)).all()

    events = []
    for v in rows(DocumentVersion):
        events.append((v.created_at, 0, f"version {v.version} ({v.reason})", v.created_by,
                       f"stage {v.stage}, sha256 {v.sha256[:12]}"))
    for e in rows(GateEvaluation):
        verdict = "passed" if e.passed else "blocked"
        events.append((e.created_at, 1, f"{e.gate} gate {verdict}", e.created_by,
                       f"as of {e.as_of}, version {e.document_version}, {len(e.findings)} findings"))
    for r in rows(ApprovalRequest):
        events.append((r.requested_at, 2, f"approval requested #{r.id}", r.requested_by,
                       f"{r.from_stage} → {r.to_stage}"))
        if r.decided_at is not None:
            events.append((r.decided_at, 3, f"request #{r.id} {r.status}", r.decided_by, r.note or ""))
    for t in rows(StageTransition):
        events.append((t.applied_at, 4, f"moved {t.from_stage} → {t.to_stage}", t.applied_by,
                       f"version {t.to_version}"))
    return events


def history(store: Store, partnership_id: str) -> list[HistoryEntry]:
    """What happened to a partnership, oldest first: versions, evaluations, requests, decisions, moves."""

    def work(session: Session) -> list[HistoryEntry]:
        Repository(session).partnership(partnership_id)
        events = sorted(_events(session, partnership_id), key=lambda item: (item[0], item[1]))
        return [HistoryEntry(at.isoformat(), event, by, detail) for at, _, event, by, detail in events]

    return read(store, work)


@dataclass(frozen=True)
class PendingRequest:
    request: int
    partnership: str
    name: str
    from_stage: str
    to_stage: str
    requested_by: str
    requested_at: datetime
    age_days: int
    mission: str = ""
    approvers: tuple[str, ...] = ()  # who may decide: the current document's director and delegates

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "partnership": self.partnership, "name": self.name,
                "from": self.from_stage, "to": self.to_stage, "requested_by": self.requested_by,
                "requested_at": self.requested_at.isoformat(timespec="seconds"), "age_days": self.age_days,
                "mission": self.mission, "approvers": list(self.approvers)}


def approvers(doc: Partnership) -> list[str]:
    """Who may decide: the mission director and the delegates (emails)."""
    people = ([doc.mission_director] if doc.mission_director else []) + list(doc.delegates)
    return [person.email for person in people]


def pending_requests(store: Store, now: datetime | None = None, *, mission: str | None = None) -> list[PendingRequest]:
    """Open approval requests (of ``mission``, as stored), oldest first, with their age in days
    and who may decide them."""
    now = now or utcnow()

    def work(session: Session) -> list[PendingRequest]:
        repo = Repository(session)
        query = (select(ApprovalRequest, PartnershipRow)
                 .join(PartnershipRow, PartnershipRow.id == ApprovalRequest.partnership_id)
                 .where(ApprovalRequest.status == RequestStatus.PENDING)
                 .order_by(ApprovalRequest.requested_at, ApprovalRequest.id))
        if mission:
            query = query.where(PartnershipRow.mission == mission)
        return [
            PendingRequest(r.id, r.partnership_id, row.name, r.from_stage, r.to_stage, r.requested_by, r.requested_at,
                           (now - r.requested_at).days, row.mission, tuple(approvers(repo.current_document(row))))
            for r, row in session.execute(query)
        ]

    return read(store, work)


def verify_audit(store: Store) -> audit.AuditReport:
    key = audit.load_key()
    return read(store, lambda session: audit.verify(session, key))


@dataclass(frozen=True)
class Missions:
    """The distinct missions of the stored partnerships (sorted) and how many partnerships are stored."""

    names: list[str]
    stored: int


def missions(store: Store) -> Missions:
    def work(session: Session) -> Missions:
        names = session.scalars(select(PartnershipRow.mission).distinct().order_by(PartnershipRow.mission)).all()
        return Missions(list(names), session.scalar(select(func.count()).select_from(PartnershipRow)) or 0)

    return read(store, work)


def mission_named(store: Store, name: str) -> str:
    """The stored spelling of the mission ``name`` (matched ignoring case), so that a filter
    typed ``usaid/ghana`` finds ``USAID/Ghana``. An unknown mission is bad input (exit 2): it
    would otherwise filter everything away and look like an empty portfolio."""
    known = missions(store).names
    for mission in known:
        if mission.casefold() == name.strip().casefold():
            return mission
    listed = ", ".join(known) if known else "none: the store holds no partnership"
    raise UsageError(f"--mission: no partnership of mission {name[:80]!r} is stored; known missions: {listed}")
