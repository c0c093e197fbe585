"""What one chunk of a portfolio review reads and writes, inside the chunk's one transaction.

``ChunkReader`` locks the chunk and reads what deciding needs: the review, the approval
requests undecided as of its date, the standing alerts (which decide what is sent), the alerts
the previous review of the same scope raised (which decide what is recorded as new), and the
current documents of the chunk's partnerships not yet reviewed (streamed). ``ChunkWriter`` collects what was found and
writes it in bulk: the results, the standing alerts opened, kept and cleared, and the
``health-alert`` messages. ``isp_lifecycle.review.review_chunk`` joins the two with
``health.assess``, so that the decisions stay pure and the SQL stays here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from . import outbox
from .document import validate
from .errors import UsageError
from .health import PendingApproval
from .model import Partnership
from .review_results import READ_BATCH, previous_review
from .store.models import (
    ApprovalRequest,
    DocumentVersion,
    PartnershipRow,
    PortfolioReview,
    PortfolioReviewChunk,
    PortfolioReviewResult,
    StandingAlert,
)


def _pending_approvals(session: Session, chunk: PortfolioReviewChunk, as_of: date) -> dict[str, list[PendingApproval]]:
    """Requests undecided as of ``as_of``: pending now, or decided only after ``as_of``."""
    after_as_of = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    a = ApprovalRequest
    rows = session.execute(
        select(a.partnership_id, a.id, a.requested_at, a.from_stage, a.to_stage)
        .where(a.partnership_id > chunk.after_id, a.partnership_id <= chunk.last_id)
        .where((a.status == "pending") | (a.status.in_(("approved", "rejected")) & (a.decided_at >= after_as_of)))
        .order_by(a.id)
    ).all()
    out: dict[str, list[PendingApproval]] = {}
    for pid, *fields in rows:
        out.setdefault(pid, []).append(PendingApproval(*fields))
    return out


def _standing(session: Session, chunk: PortfolioReviewChunk) -> dict[str, dict[tuple[str, str], int]]:
    """Open standing alerts of the chunk's partnerships: {partnership: {(alert, subject): row id}}."""
    s = StandingAlert
    rows = session.execute(
        select(s.partnership_id, s.alert, s.subject, s.id)
        .where(s.partnership_id > chunk.after_id, s.partnership_id <= chunk.last_id, s.cleared_at.is_(None))
    ).all()
    out: dict[str, dict[tuple[str, str], int]] = {}
    for pid, alert, subject, sid in rows:
        out.setdefault(pid, {})[(alert, subject)] = sid
    return out


def _previous_alerts(session: Session, chunk: PortfolioReviewChunk, previous_id: int) -> dict[str, set]:
    """What the previous review raised for the chunk's partnerships: {partnership: {(alert, subject)}}."""
    r = PortfolioReviewResult
    rows = session.execute(select(r.partnership_id, r.alerts).where(
        r.review_id == previous_id, r.partnership_id > chunk.after_id, r.partnership_id <= chunk.last_id))
    return {pid: {(a["alert"], a["subject"]) for a in alerts} for pid, alerts in rows}


@dataclass
class ChunkReader:
    session: Session
    review: PortfolioReview
    chunk: PortfolioReviewChunk
    pending: dict[str, list[PendingApproval]] = field(default_factory=dict)
    standing: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    previous: dict[str, set] | None = None  # None: no previous review to compare with

    def before(self, pid: str) -> set | None:
        """The alerts the previous review raised for ``pid`` (none when it did not review it)."""
        return None if self.previous is None else self.previous.get(pid, set())

    @classmethod
    def open(cls, session: Session, review_id: int, seq: int) -> ChunkReader:
        """The chunk, locked against a second worker (``FOR UPDATE`` where the database has it)."""
        review = session.get(PortfolioReview, review_id)
        if review is None:
            raise UsageError(f"no review #{review_id} in the store")
        c = PortfolioReviewChunk
        chunk = session.scalars(select(c).where(c.review_id == review_id, c.seq == seq).with_for_update()).one_or_none()
        if chunk is None:
            raise UsageError(f"review #{review_id} has no chunk {seq}")
        reader = cls(session, review, chunk)
        if chunk.done_at is None:
            reader.pending = _pending_approvals(session, chunk, review.as_of)
            reader.standing = _standing(session, chunk)
            previous = previous_review(session, review)
            reader.previous = None if previous is None else _previous_alerts(session, chunk, previous.id)
        return reader

    def documents(self, eligible: Callable) -> Iterator[tuple[str, int, Partnership]]:
        """(id, version, document) of the chunk's eligible partnerships not yet reviewed, by id, streamed."""
        p, d, r = PartnershipRow, DocumentVersion, PortfolioReviewResult
        query = eligible(
            select(p.id, p.current_version, d.document)
            .join(d, and_(d.partnership_id == p.id, d.version == p.current_version))
            .outerjoin(r, and_(r.review_id == self.review.id, r.partnership_id == p.id))
            .where(p.id > self.chunk.after_id, p.id <= self.chunk.last_id, r.id.is_(None)),
            self.review.mission or None,
        ).order_by(p.id)
        for pid, version, text in self.session.execute(query.execution_options(yield_per=READ_BATCH)):
            yield pid, version, validate(json.loads(text), f"{pid} version {version}")


@dataclass
class ChunkWriter:
    review_id: int
    as_of: date
    now: datetime
    results: list[dict[str, Any]] = field(default_factory=list)
    new_standing: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    still: list[int] = field(default_factory=list)
    found: list[tuple[Partnership, list[dict[str, str]]]] = field(default_factory=list)  # (doc, alerts to send)
    alert_count: int = 0
    new_count: int = 0

    def add(self, pid: str, version: int, doc: Partnership, verdict: dict[str, Any],
            alerts: list[dict[str, str]], open_now: dict[tuple[str, str], int], before: set | None) -> None:
        """One partnership's verdict and alerts: sent when not standing (``open_now``), recorded
        as new when the previous review did not raise them (``before``; None: no previous review)."""
        as_of = self.as_of
        current = {(a["alert"], a["subject"]) for a in alerts}
        to_send = [a for a in alerts if (a["alert"], a["subject"]) not in open_now]
        new = [] if before is None else [a for a in alerts if (a["alert"], a["subject"]) not in before]
        self.new_standing += [{"partnership_id": pid, "alert": a["alert"], "subject": a["subject"],
                               "first_seen": as_of, "last_seen": as_of} for a in to_send]
        self.cleared += [sid for k, sid in open_now.items() if k not in current]
        self.still += [sid for k, sid in open_now.items() if k in current]
        self.alert_count += len(alerts)
        self.new_count += len(new)
        self.results.append({
            "review_id": self.review_id, "partnership_id": pid, "document_version": version, "name": doc.name,
            "mission": doc.mission, "stage": doc.stage, "days_in_stage": (as_of - doc.entered).days,
            "director": doc.mission_director.email.lower() if doc.mission_director else None,
            "verdict": verdict, "alerts": alerts, "new_alerts": new, "created_at": self.now,
            "blocking": sum(1 for f in verdict["findings"] if f["severity"] == "blocking"),
        })
        if to_send:
            self.found.append((doc, to_send))

    def write(self, session: Session) -> None:
        if self.results:
            session.execute(insert(PortfolioReviewResult), self.results)
        if self.new_standing:
            session.execute(insert(StandingAlert), self.new_standing)
        if self.cleared:
            session.execute(update(StandingAlert), [{"id": sid, "cleared_at": self.as_of} for sid in self.cleared])
        if self.still:
            session.execute(update(StandingAlert), [{"id": sid, "last_seen": self.as_of} for sid in self.still])

    def messages(self, review_id: int, log: logging.Logger) -> list[outbox.Message]:
        """One ``health-alert`` per partnership with alerts not standing, to its leaders (else its director)."""
        out = []
        for doc, new in self.found:
            recipients = outbox.for_event("health-alert", doc)
            if not recipients:
                log.warning("%s has new alerts but neither leaders nor a mission director to tell", doc.id)
            out.append(outbox.Message("health-alert", f"review-{review_id}-{doc.id}", doc.id, recipients, {
                "partnership": doc.id, "partnership_name": doc.name, "stage": doc.stage,
                "as_of": self.as_of.isoformat(), "alerts": new}))
        return out
