"""The use cases as an identified caller reaches them (the HTTP API; later, the pages).

Each method takes the caller's ``Identity``, asks ``authz`` whether they may see and act,
and calls the same services as the CLI. A partnership the caller may not see is
``UnknownPartnership`` (its requests ``NotFound``), so its existence is not disclosed;
one they may see but not act on is ``authz.Forbidden``, audited like every refusal.

Roles are read from stored documents, which never change once written: they are cached by
(partnership, version), so a portfolio of thousands is parsed once per process.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from . import approvals, authz, lifecycle, services, tokens, uow
from .authz import Caller, Forbidden, Roles
from .document import parse_text, validate
from .errors import (
    InvalidDocument,
    IspError,
    Problem,
    RefusedOperation,
    StaleUpdate,
    UnknownPartnership,
    UsageError,
)
from .identity import Identity
from .settings import Settings
from .store import Store, audit
from .portfolio import BATCH, Details, Portfolio, Snapshots, reader
from .reading import Reading, approval_object, stamp
from .store.models import ApprovalRequest, DocumentVersion, PartnershipRow, StageTransition, clock_reading

NOTE_LIMIT = 2000
MAX_LIMIT = 1000
ROLE_CACHE = 100_000


class NotFound(IspError):
    """No such approval request or version, or one the caller may not see (HTTP 404)."""


class GateBlocked(RefusedOperation):
    """The gate did not pass: the findings are recorded and sent to the leaders (HTTP 409)."""

    def __init__(self, partnership_id: str, verdict: dict[str, Any]) -> None:
        self.verdict = verdict
        super().__init__(f"{partnership_id}: the {verdict['gate']} gate is blocked; the findings are recorded and "
                         "sent to the leaders")


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


@contextmanager
def acting(identity: Identity) -> Iterator[None]:
    """Record ``identity`` in every audit entry written inside (``uow.acting``)."""
    token = uow.acting.set(identity)
    try:
        yield
    finally:
        uow.acting.reset(token)


def _applied(r: ApprovalRequest, moved: bool) -> bool:
    return r.status == "rejected" or (r.status == "approved" and moved)


class Access:
    """One per process: the store, the settings and the cache of roles."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._roles: dict[tuple[str, int], Roles] = {}
        self._lock = threading.Lock()
        self._snapshots = Snapshots(settings, self._roles_of)
        self._pending, self._verdicts = Details(), Details()
        self._recent = tokens.Recent()
        self.reads = reader(store)

    # ------------------------------------------------------------ roles

    def _roles_of(self, session: Session, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], Roles]:
        with self._lock:
            found = {key: self._roles[key] for key in wanted if key in self._roles}
        missing = [key for key in wanted if key not in found]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            rows = session.execute(
                select(DocumentVersion.partnership_id, DocumentVersion.version, DocumentVersion.document)
                .where(DocumentVersion.partnership_id.in_({p for p, _ in chunk}))
                .where(DocumentVersion.version.in_({v for _, v in chunk}))
            ).all()
            for pid, version, document in rows:  # a few extra (id, version) pairs: as valid to keep
                found[(pid, version)] = Roles.of(json.loads(document))
        with self._lock:
            if len(self._roles) > ROLE_CACHE:
                self._roles.clear()
            self._roles.update(found)
        return found

    def _portfolio(self, session: Session) -> Portfolio:
        """Every partnership with its roles (``portfolio.Snapshots``: re-read only what changed)."""
        return self._snapshots.current(session)

    def _visible(self, session: Session, identity: Identity, partnership_id: str) -> tuple[Caller, PartnershipRow, Roles]:
        """The partnership if the caller may see it, else ``UnknownPartnership`` (no disclosure)."""
        portfolio = self._portfolio(session)
        who = portfolio.caller(identity)
        row = session.get(PartnershipRow, partnership_id)
        if row is None:
            raise UnknownPartnership(partnership_id)
        roles = self._roles_of(session, [(row.id, row.current_version)])[(row.id, row.current_version)]
        if not authz.sees(who, roles):
            raise UnknownPartnership(partnership_id)
        return who, row, roles

    def _as_written(self, session: Session, partnership_id: str, version: int, identity: Identity) -> Identity:
        """The identity with its email as that version of the document writes it."""
        document = session.scalars(select(DocumentVersion.document).where(
            DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == version)).first()
        written = authz.as_written(json.loads(document), identity.email) if document else identity.email
        return identity if written == identity.email else dataclasses.replace(identity, email=written)

    def refused(self, identity: Identity, action: str, partnership_id: str, exc: Exception) -> None:
        """Audit a refusal on a partnership the caller may see (403 and 409 of the API)."""
        with self.store.sessions.begin() as session:
            audit.append(session, audit.load_key(), at=stamp(services.utcnow()), actor=identity.email,
                         action=f"{action}.refused", partnership_id=partnership_id,
                         detail={"reason": str(exc), "error": type(exc).__name__, "identity": identity.as_audit()})

    # ------------------------------------------------------------ reading

    def health(self) -> None:
        with self.reads() as session:
            session.execute(text("SELECT 1"))

    def clock(self) -> tuple[int, int]:
        """The store's clock now: (portfolio ticks, credentials ticks). A caller that read it
        passes them to the reads below (``tick``) and to ``identify`` (``credentials``): what
        is kept in memory and still current as of that reading is then served without a query."""
        with self.reads() as session:
            return clock_reading(session)

    def behind(self, tick: int) -> bool:
        """Whether the portfolio snapshot must be brought to clock ``tick`` (``catch_up``)."""
        return self._snapshots.at(tick) is None

    def catch_up(self) -> None:
        with self.reads() as session:
            self._snapshots.current(session)

    def identify(self, secret: str, client: str | None, credentials: int | None = None) -> Identity | None:
        hand = None if credentials is None else (self._snapshots.generation, credentials)
        return tokens.authenticate(self.store, secret, client=client, reads=self.reads, recent=self._recent, hand=hand)

    def known(self, secret: str, client: str | None, credentials: int) -> Identity | None:
        """The identity of a token checked lately and not revoked since (memory only; ``None``:
        ask ``identify``)."""
        return self._recent.get(secret, (self._snapshots.generation, credentials), client, services.utcnow())

    def _reading(self, tick: int | None, memory_only: bool) -> Reading:
        return Reading(self._snapshots, self._pending, self._verdicts, self.reads, tick, memory_only)

    def me(self, identity: Identity) -> dict[str, Any]:
        return {"email": identity.email, "admin": self.settings.is_admin(identity.email)}

    def partnerships(self, identity: Identity, *, mission: str | None, stage: str | None, after: str | None,
                     limit: int, tick: int | None = None,
                     memory_only: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        """A page of what the caller sees. ``tick``: the clock as the caller read it (``clock``);
        ``memory_only``: answer without the store or raise ``NeedsStore`` (for the same call
        without it)."""
        check_limit(limit)
        with self._reading(tick, memory_only) as reading:
            portfolio = reading.portfolio()
            rows, following = [], None
            for row, _ in portfolio.visible(identity):
                listed = portfolio.summary(row)
                if (after is not None and listed["id"] <= after) or (stage and listed["stage"] != stage):
                    continue
                if mission and listed["mission"].casefold() != mission.casefold():
                    continue
                if len(rows) == limit:
                    following = rows[-1]["id"]
                    break
                rows.append(listed)
            # The page's own pending requests only: a store's pending requests can be thousands.
            pending = reading.pending([listed["id"] for listed in rows])
        page = [{**listed, "pending_request": pending[listed["id"]][0]["id"] if pending[listed["id"]] else None}
                for listed in rows]
        return page, following

    def partnership(self, identity: Identity, partnership_id: str, *, tick: int | None = None,
                    memory_only: bool = False) -> dict[str, Any]:
        """One partnership the caller sees (``tick``, ``memory_only``: as ``partnerships``)."""
        with self._reading(tick, memory_only) as reading:
            portfolio = reading.portfolio()
            found = portfolio.find(partnership_id)
            if found is None or not authz.sees(portfolio.caller(identity), found[1]):
                raise UnknownPartnership(partnership_id)
            row = found[0]
            pending = reading.pending([row.id])[row.id]
            verdict = reading.verdict(row.id, also=lambda: [r.id for r, _ in portfolio.visible(identity)[:200]])
        return {"id": row.id, "name": row.name, "mission": row.mission, "stage": row.stage,
                "stage_entered": row.stage_entered.isoformat(), "version": row.current_version,
                "pending_request": pending[0]["id"] if pending else None, "latest_verdict": verdict}

    def document(self, identity: Identity, partnership_id: str, version: int | None) -> dict[str, Any]:
        """The stored document's data, as ``isp export`` writes it."""
        with self.reads() as session:
            _, row, _ = self._visible(session, identity, partnership_id)
        if version is not None and not 1 <= version <= row.current_version:
            raise NotFound(f"{partnership_id} has no version {version} (versions 1 to {row.current_version})")
        return services.export_document(self.store, partnership_id, version).to_data()

    def approvals(self, identity: Identity, *, status: str | None, after: int | None, limit: int,
                  tick: int | None = None, memory_only: bool = False) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the requests on what the caller sees (``tick``, ``memory_only``: as
        ``partnerships``; pending ones are kept in memory, the others are read)."""
        check_limit(limit)
        if status is not None and status not in ("pending", "approved", "rejected", "stale"):
            raise UsageError(f"status must be pending, approved, rejected or stale, not {status[:40]!r}")
        with self._reading(tick, memory_only) as reading:
            portfolio = reading.portfolio()
            if status == "pending":
                ids = [row.id for row, _ in portfolio.visible(identity)]
                waiting = sorted((request for requests in reading.pending(ids).values() for request in requests
                                  if after is None or request["id"] > after), key=lambda request: request["id"])
                return waiting[:limit], waiting[limit - 1]["id"] if len(waiting) > limit else None
            session = reading.session()
            visible = {row.id for row, _ in portfolio.visible(identity)}
            query = (select(ApprovalRequest, StageTransition.id)
                     .outerjoin(StageTransition, StageTransition.approval_id == ApprovalRequest.id)
                     .order_by(ApprovalRequest.id))
            if len(visible) <= MAX_LIMIT:  # most callers: let the database keep only theirs
                query = query.where(ApprovalRequest.partnership_id.in_(visible))
            if status:
                query = query.where(ApprovalRequest.status == status)
            if after is not None:
                query = query.where(ApprovalRequest.id > after)
            page = []
            for request, moved in session.execute(query):
                if request.partnership_id not in visible:
                    continue
                if len(page) == limit:
                    return page, page[-1]["id"]
                page.append(approval_object(request, _applied(request, moved is not None)))
        return page, None

    def _request(self, session: Session, identity: Identity, request_id: int) -> tuple[ApprovalRequest, bool]:
        request = session.get(ApprovalRequest, request_id)
        if request is None:
            raise NotFound(f"no approval request #{request_id}")
        try:
            self._visible(session, identity, request.partnership_id)
        except UnknownPartnership:
            raise NotFound(f"no approval request #{request_id}") from None
        moved = session.scalars(select(StageTransition.id).where(StageTransition.approval_id == request_id)).first()
        return request, _applied(request, moved is not None)

    def approval(self, identity: Identity, request_id: int) -> dict[str, Any]:
        with self.reads() as session:
            return approval_object(*self._request(session, identity, request_id))

    # ------------------------------------------------------------ acting

    def decide(self, identity: Identity, request_id: int, *, approve: bool, note: str | None) -> dict[str, Any]:
        action = "approve" if approve else "reject"
        with self.reads() as session:
            request, _ = self._request(session, identity, request_id)
            rested = self._roles_of(session, [(request.partnership_id, request.document_version)])
            identity = self._as_written(session, request.partnership_id, request.document_version, identity)
        try:
            authz.check_decide(identity, rested[(request.partnership_id, request.document_version)],
                               request.requested_by, self.settings, request.partnership_id)
            if request.status != "pending":
                raise (StaleUpdate if request.status == "stale" else RefusedOperation)(
                    f"approval request #{request_id} is already {request.status}")
        except RefusedOperation as exc:
            self.refused(identity, action, request.partnership_id, exc)
            raise
        if note is not None and len(note) > NOTE_LIMIT:
            raise InvalidDocument([Problem("note", f"at most {NOTE_LIMIT} characters, not {len(note)}")])
        # the decision and, when approved, the move: one transaction, both or neither
        decided = services.decide_and_apply(self.store, request.partnership_id, identity=identity, approve=approve,
                                            note=note, request_id=request_id)
        return approval_object(decided.request, _applied(decided.request, decided.applied))

    def advance(self, identity: Identity, partnership_id: str, *, to: str | None, as_of: date | None) -> dict[str, Any]:
        with self.reads() as session:
            who, row, roles = self._visible(session, identity, partnership_id)
            stage = row.stage
            identity = self._as_written(session, partnership_id, row.current_version, identity)
        try:
            authz.check_edit(who, roles, partnership_id, "request a move of")
            if to and stage != "review":
                raise RefusedOperation(f"{partnership_id} is in {stage}: `to` chooses only when leaving review")
            target = to or lifecycle.next_stage(stage)
            if target is None:
                raise RefusedOperation(f"{partnership_id} is {stage}: there is no stage to move to")
            lifecycle.check_move(stage, target)
            existing = approvals.open_or_unapplied(self.store, partnership_id)
            if existing is not None:
                raise RefusedOperation(f"{partnership_id} already has an open approval request (#{existing.id})")
        except RefusedOperation as exc:
            self.refused(identity, "request-approval", partnership_id, exc)
            raise
        with acting(identity):
            opened = approvals.open_request(self.store, partnership_id, requested_by=identity.email, to=to,
                                            as_of=as_of)
        if opened.blocked:
            raise GateBlocked(partnership_id, opened.verdict)
        return self.approval(identity, opened.request_id)

    def put_document(self, identity: Identity, partnership_id: str, upload: Upload) -> tuple[bool, dict]:
        """``isp import`` of a parsed body; returns (created, {"version", "changed"})."""
        data, doc, invalid = upload.data, upload.doc, upload.invalid
        with self.reads() as session:
            portfolio = self._portfolio(session)
            who = portfolio.caller(identity)
            row = session.get(PartnershipRow, partnership_id)
            new = Roles.of(data if isinstance(data, dict) else {})
            old = None
            if row is not None:
                old = self._roles_of(session, [(row.id, row.current_version)])[(row.id, row.current_version)]
                if not authz.sees(who, old):
                    raise UnknownPartnership(partnership_id)
        try:
            if old is None:
                authz.check_create(who, new, partnership_id)
            else:
                authz.check_edit(who, old, partnership_id, "upload a version of")
                if doc is not None:
                    authz.check_power(who, old, new, partnership_id)
        except Forbidden as exc:
            if old is not None:
                self.refused(identity, "import", partnership_id, exc)
            raise
        if invalid is not None:
            raise invalid
        with acting(identity):
            result = services.import_document(self.store, doc, actor=identity.email)
        return result.status == "created", {"version": result.version, "changed": result.status != "unchanged"}


@dataclass(frozen=True)
class Upload:
    """A document body, parsed before credentials are looked at (a wrong ``id`` is 400 first)."""

    data: Any
    doc: Any
    invalid: InvalidDocument | None

    @classmethod
    def parse(cls, partnership_id: str, body: str, *, json_only: bool) -> Upload:
        data, doc, invalid = None, None, None
        try:
            data = parse_text(body, json_only=json_only)
        except InvalidDocument as exc:
            invalid = exc
        if isinstance(data, dict) and "id" in data and data["id"] != partnership_id:
            raise UsageError(f"the body's id {str(data['id'])[:80]!r} differs from the path's {partnership_id!r}")
        if invalid is None:
            try:
                doc = validate(data)
            except InvalidDocument as exc:
                invalid = exc
        return cls(data, doc, invalid)


def gate_check(text_body: str, *, json_only: bool, gate: str | None, as_of: date) -> dict[str, Any]:
    """``isp check`` on one body: the verdict object, or ``InvalidDocument`` with its problems."""
    from .document import loads
    from .gates import evaluate

    doc = loads(text_body, json_only=json_only)
    target = gate or lifecycle.gate_of(doc.stage)
    if target is None:
        raise InvalidDocument([Problem("stage", f"the partnership is {doc.stage}: it has no gate to check; "
                                                "choose one with gate")])
    return evaluate(doc, target, as_of).to_json()
