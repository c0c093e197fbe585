"""The tables of the partners' self-assessment (``docs/assessments.md``); migration 0007 creates them.

An ``Assessment`` is one invitation: one review, one partnership, one contact (by email, as
the document spelled it when the review ran), with the partner and sector the contact spoke
for then. Its answers (``AssessmentRating`` per principle, ``AssessmentTaking`` per
initiative) are replaced while it is open; its lessons (``AssessmentLesson``) are added and
withdrawn one by one. Every change is also in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class Assessment(Base):
    """One contact's invitation to assess one partnership in one review."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    as_of: Mapped[date] = mapped_column(Date)  # the review's date: the trend's order
    stage: Mapped[str] = mapped_column(String(16))  # the partnership's stage when invited
    partner_id: Mapped[str] = mapped_column(String(63))
    partner_name: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(Text)  # lower case
    name: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    declined_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("review_id", "partnership_id", "email", name="uq_assessments_contact"),
        Index("ix_assessments_partnership", "partnership_id", "as_of"),
        Index("ix_assessments_open", "reminded_at", "closes_at"),
    )


class AssessmentRating(Base):
    """One principle rated green, amber or red, with an optional comment; ``attributed``: the
    author lets the comment carry their name (else only their organisation's)."""

    __tablename__ = "assessment_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    principle: Mapped[str] = mapped_column(String(32))
    rating: Mapped[str] = mapped_column(String(8))  # green | amber | red
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    attributed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("assessment_id", "principle", name="uq_assessment_ratings_principle"),)


class AssessmentTaking(Base):
    """Whether the contact's partner still wants to take part in one initiative."""

    __tablename__ = "assessment_taking_part"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    initiative: Mapped[str] = mapped_column(String(63))
    stays: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("assessment_id", "initiative", name="uq_assessment_taking_initiative"),)


class AssessmentLesson(Base):
    """A lesson learned, tagged with a principle (or none), shareable beyond the partnership or internal."""

    __tablename__ = "assessment_lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    principle: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    shareable: Mapped[bool] = mapped_column(Boolean)
    given_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_assessment_lessons_given", "given_on", "partnership_id"),)
