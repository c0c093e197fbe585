"""The lessons register's suites: the store suite's fixtures (SQLite and PostgreSQL), documents
with lessons in their reviews, and a fake of the assessments' lessons (``assessment_lessons``,
owned by the assessments: the register is tested against its interface)."""

from __future__ import annotations

from datetime import date

import pytest

from isp_lifecycle import services

from ..conftest import FIXTURES
from ..store.conftest import backend, database_url, env, store  # noqa: F401  (fixtures)

ESCAPE = "\x1b[31mred\x1b[0m"


def with_reviews(base: str = "gh-mnh-north.yaml", **changes):
    """A fixture document with ``reviews`` given as ``[(date, [lessons...]), ...]``."""
    from isp_lifecycle.document import load, validate

    data = load(FIXTURES / base).to_data()
    data.update(changes, reviews=[{"date": day, "lessons": list(said)} for day, said in changes.get("reviews", [])])
    return validate(data)


def stock(store) -> None:
    """Three partnerships of two missions, with lessons on several dates (one shared date)."""
    services.import_document(store, with_reviews(id="gh-north", reviews=[
        ("2026-03-01", ["Meet where the volunteers are."]),
        ("2026-09-01", ["Two contacts per partner keep the work going.", "Share results locally first."])]))
    services.import_document(store, with_reviews(id="gh-east", reviews=[("2026-09-01", ["Start small."])]))
    services.import_document(store, with_reviews("ke-water-kisumu.yaml", id="ke-lake",
                                                 reviews=[("2026-05-10", ["Water committees decide faster."])]))


class FakeAssessments:
    """Stands in for ``assessment_lessons.lessons``: answers what it holds, filtered as its
    interface says, and records how it was asked."""

    def __init__(self, given: list[dict]) -> None:
        self.given, self.calls = given, []

    def __call__(self, session, *, mission=None, principle=None, partnership=None) -> list[dict]:
        self.calls.append({"mission": mission, "principle": principle, "partnership": partnership})
        return [g for g in self.given
                if (mission is None or g["mission"].casefold() == mission.casefold())
                and (principle is None or g["principle"] == principle)
                and (partnership is None or g["partnership"] == partnership)]


def given(partnership: str, mission: str, day: date, text: str, *, principle: str | None = "share-information",
          shareable: bool = True) -> dict:
    return {"partnership": partnership, "mission": mission, "date": day, "source": "assessment",
            "principle": principle, "text": text, "shareable": shareable}


@pytest.fixture
def assessments(monkeypatch):
    """Install a fake holding the lessons the test gives it: ``assessments([given(...), ...])``."""
    from isp_lifecycle import assessment_lessons

    def install(items: list[dict]) -> FakeAssessments:
        fake = FakeAssessments(items)
        monkeypatch.setattr(assessment_lessons, "lessons", fake)
        return fake

    return install
