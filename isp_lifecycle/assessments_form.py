"""The assessment form's read view and its changes: answers, lessons and declining.

A contact reaches the form of one review's assessment of one partnership
(``/partnerships/ID/assessments/N``) and sees it only if the review invited *them* (their
signed-in email) to assess *that* partnership: anyone else, and any other partnership, gets
``NoAssessment`` (a 404 that discloses nothing). Answers may be changed, and lessons added or
withdrawn, until the assessment closes; afterwards every change is refused (``Closed``).
Every change and every refusal is in the audit log (``uow.run_command``); comments and lesson
texts stay in their own tables, the audit entry records what was rated and how much was written.

    view(store, email, partnership_id, review_id, now)                    -> what the form shows
    answer(store, identity, partnership_id, review_id, fields, clock)     -> ratings, taking part
    add_lesson(store, identity, partnership_id, review_id, fields, clock)
    withdraw_lesson(store, identity, partnership_id, review_id, lesson_id, clock)
    decline(store, identity, partnership_id, review_id, clock)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from .assessments import RATINGS, SENTENCES, principles_at
from .errors import RefusedOperation
from .identity import Identity
from .limits import text_problem
from .store import Store
from .store.assessment_models import Assessment, AssessmentLesson, AssessmentRating, AssessmentTaking
from .store.models import DocumentVersion, PartnershipRow
from .uow import Clock, UnitOfWork, read, run_command

TEXT_LIMIT = 2000  # characters of a comment or a lesson
LESSONS_LIMIT = 20  # lessons per assessment


class NoAssessment(RefusedOperation):
    """Nothing here for this reader (shown as 404)."""


class Closed(RefusedOperation):
    """The assessment closed: nothing more is accepted (409)."""


class BadAnswer(RefusedOperation):
    """A field of the form is not acceptable (400), named in the message."""


def _find(session, email: str, partnership_id: str, review_id: int, *, lock: bool = False) -> Assessment:
    query = select(Assessment).where(Assessment.partnership_id == partnership_id, Assessment.review_id == review_id,
                                     Assessment.email == email.lower())
    found = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if found is None:
        raise NoAssessment(f"no assessment of {partnership_id[:63]} for you in review {review_id}")
    return found


def _document(session, partnership_id: str) -> dict[str, Any]:
    row = session.get(PartnershipRow, partnership_id)
    text = session.scalars(select(DocumentVersion.document).where(
        DocumentVersion.partnership_id == partnership_id, DocumentVersion.version == row.current_version)).one()
    return json.loads(text)


def initiatives_of(document: dict[str, Any], partner_id: str) -> list[dict[str, str]]:
    """The initiatives ``partner_id`` leads or takes part in, in the document's order."""
    return [{"id": i["id"], "name": i["name"]} for i in document.get("initiatives") or []
            if partner_id == i.get("lead") or partner_id in (i.get("partners") or [])]


def view(store: Store, email: str, partnership_id: str, review_id: int, now: datetime) -> dict[str, Any]:
    """What the form shows to ``email``; ``NoAssessment`` when it is not theirs."""
    def work(session) -> dict[str, Any]:
        a = _find(session, email, partnership_id, review_id)
        document = _document(session, partnership_id)
        rated = {r.principle: r for r in session.scalars(
            select(AssessmentRating).where(AssessmentRating.assessment_id == a.id))}
        stays = dict(session.execute(select(AssessmentTaking.initiative, AssessmentTaking.stays)
                                     .where(AssessmentTaking.assessment_id == a.id)).all())
        lessons = session.scalars(select(AssessmentLesson).where(AssessmentLesson.assessment_id == a.id)
                                  .order_by(AssessmentLesson.id)).all()
        principles = [{"slug": p, "sentence": SENTENCES[p], "rating": rated[p].rating if p in rated else None,
                       "comment": rated[p].comment or "" if p in rated else "",
                       "attributed": rated[p].attributed if p in rated else False} for p in principles_at(a.stage)]
        return {
            "partnership": {"id": partnership_id, "name": document["name"], "mission": document["mission"]},
            "assessment": {"review": review_id, "as_of": a.as_of, "closes": a.closes_at, "open": now < a.closes_at,
                           "declined": a.declined_at is not None, "answered": a.answered_at is not None,
                           "partner": a.partner_name, "sector": a.sector, "name": a.name},
            "principles": principles,
            "initiatives": [{**i, "stays": stays.get(i["id"])} for i in initiatives_of(document, a.partner_id)],
            "lessons": [{"id": x.id, "text": x.text, "principle": x.principle, "shareable": x.shareable}
                        for x in lessons],
            "all_principles": list(SENTENCES),
            "draft": {"text": "", "principle": "", "shareable": ""},
        }

    return read(store, work)


def _change(store: Store, identity: Identity, partnership_id: str, review_id: int, action: str, clock: Clock,
            work: Callable[[UnitOfWork, Assessment], dict[str, Any]]) -> None:
    """Run one change of an open assessment of ``identity``'s, audited (and its refusal too)."""
    def guarded(tx: UnitOfWork) -> None:
        a = _find(tx.session, identity.email, partnership_id, review_id, lock=True)
        if tx.now >= a.closes_at:
            raise Closed(f"this assessment closed on {a.closes_at.date().isoformat()}: answers can no longer change")
        detail = work(tx, a)
        tx.audit(action, partnership_id, {"review": review_id, "assessment": a.id, **detail})

    run_command(store, action, partnership_id, None, clock, guarded, identity=identity)


def _text(fields: dict[str, str], name: str, what: str, *, required: bool = False) -> str | None:
    value = (fields.get(name) or "").replace("\r\n", "\n").strip()
    if not value:
        if required:
            raise BadAnswer(f"{what}: write something first")
        return None
    if len(value) > TEXT_LIMIT:
        raise BadAnswer(f"{what}: at most {TEXT_LIMIT} characters, not {len(value)}")
    problem = text_problem(value, True)
    if problem:
        raise BadAnswer(f"{what}: {problem}")
    return value


def _choice(fields: dict[str, str], name: str, allowed: tuple[str, ...], what: str) -> str | None:
    value = fields.get(name) or ""
    if value and value not in allowed:
        raise BadAnswer(f"{what}: choose one of {', '.join(allowed)}, not {value[:40]!r}")
    return value or None


def _answers(fields: dict[str, str], stage: str, initiatives: list[str]) -> tuple[list[dict], dict[str, bool]]:
    ratings = []
    for slug in principles_at(stage):
        rating = _choice(fields, f"rating.{slug}", RATINGS, f"the rating of {slug}")
        comment = _text(fields, f"comment.{slug}", f"the comment on {slug}")
        if comment and not rating:
            raise BadAnswer(f"the comment on {slug}: choose green, amber or red for it too")
        if rating:
            ratings.append({"principle": slug, "rating": rating, "comment": comment,
                            "attributed": fields.get(f"named.{slug}") == "1"})
    stays = {}
    for initiative in initiatives:
        said = _choice(fields, f"stays.{initiative}", ("yes", "no"), f"taking part in {initiative}")
        if said:
            stays[initiative] = said == "yes"
    return ratings, stays


def answer(store: Store, identity: Identity, partnership_id: str, review_id: int, fields: dict[str, str],
           clock: Clock) -> None:
    """Replace the ratings and the taking-part answers with those of the form."""
    def work(tx: UnitOfWork, a: Assessment) -> dict[str, Any]:
        initiatives = [i["id"] for i in initiatives_of(_document(tx.session, partnership_id), a.partner_id)]
        ratings, stays = _answers(fields, a.stage, initiatives)
        tx.session.execute(delete(AssessmentRating).where(AssessmentRating.assessment_id == a.id))
        tx.session.execute(delete(AssessmentTaking).where(AssessmentTaking.assessment_id == a.id))
        tx.session.add_all([AssessmentRating(assessment_id=a.id, **r) for r in ratings])
        tx.session.add_all([AssessmentTaking(assessment_id=a.id, initiative=i, stays=s) for i, s in stays.items()])
        a.answered_at, a.declined_at = tx.now, None
        return {"ratings": {r["principle"]: r["rating"] for r in ratings}, "taking_part": stays,
                "comments": sum(1 for r in ratings if r["comment"])}

    _change(store, identity, partnership_id, review_id, "assessment-answered", clock, work)


def add_lesson(store: Store, identity: Identity, partnership_id: str, review_id: int, fields: dict[str, str],
               clock: Clock) -> None:
    def work(tx: UnitOfWork, a: Assessment) -> dict[str, Any]:
        text = _text(fields, "text", "the lesson", required=True)
        principle = _choice(fields, "principle", tuple(SENTENCES), "the lesson's principle")
        shareable = _choice(fields, "shareable", ("yes", "no"), "who may read the lesson")
        if shareable is None:
            raise BadAnswer("the lesson: say whether it may be shared beyond the partnership")
        count = len(tx.session.scalars(select(AssessmentLesson.id).where(AssessmentLesson.assessment_id == a.id)).all())
        if count >= LESSONS_LIMIT:
            raise BadAnswer(f"the lesson: at most {LESSONS_LIMIT} lessons per assessment")
        lesson = AssessmentLesson(assessment_id=a.id, partnership_id=partnership_id, principle=principle, text=text,
                                  shareable=shareable == "yes", given_on=tx.now.date(), created_at=tx.now)
        tx.session.add(lesson)
        tx.session.flush()
        return {"lesson": lesson.id, "principle": principle, "shareable": lesson.shareable}

    _change(store, identity, partnership_id, review_id, "assessment-lesson", clock, work)


def withdraw_lesson(store: Store, identity: Identity, partnership_id: str, review_id: int, lesson_id: int,
                    clock: Clock) -> None:
    def work(tx: UnitOfWork, a: Assessment) -> dict[str, Any]:
        gone = tx.session.execute(delete(AssessmentLesson).where(AssessmentLesson.id == lesson_id,
                                                                 AssessmentLesson.assessment_id == a.id)).rowcount
        if not gone:
            raise NoAssessment(f"no lesson {lesson_id} of yours here")
        return {"lesson": lesson_id}

    _change(store, identity, partnership_id, review_id, "assessment-lesson-withdrawn", clock, work)


def decline(store: Store, identity: Identity, partnership_id: str, review_id: int, clock: Clock) -> None:
    """Decline to assess: the answers given so far are withdrawn (lessons stay until withdrawn)."""
    def work(tx: UnitOfWork, a: Assessment) -> dict[str, Any]:
        tx.session.execute(delete(AssessmentRating).where(AssessmentRating.assessment_id == a.id))
        tx.session.execute(delete(AssessmentTaking).where(AssessmentTaking.assessment_id == a.id))
        a.declined_at, a.answered_at = tx.now, None
        return {}

    _change(store, identity, partnership_id, review_id, "assessment-declined", clock, work)
