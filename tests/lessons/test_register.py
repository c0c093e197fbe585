"""``isp lessons``: the lessons of the documents' reviews and of the partners' assessments, in
one order, filtered; JSON lines for scripts and text a terminal shows as written."""

from __future__ import annotations

import json
from datetime import date

import pytest

from isp_lifecycle import services
from isp_lifecycle.cli import main

from ..store.conftest import dump
from .conftest import ESCAPE, given, stock, with_reviews

KEYS = ["partnership", "mission", "date", "source", "principle", "text", "shareable"]


def run(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["lessons", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_the_lessons_of_each_current_document_come_from_the_store_dated_by_their_review_unprincipled_and_shareable(
        store, capsys):
    stock(store)
    services.import_document(store, with_reviews(id="gh-east", reviews=[("2026-10-01", ["Revised: start smaller."])]))
    code, lines, _ = run(capsys)
    assert code == 0
    assert [(x["date"], x["partnership"], x["text"]) for x in lines] == [
        ("2026-03-01", "gh-north", "Meet where the volunteers are."),
        ("2026-05-10", "ke-lake", "Water committees decide faster."),
        ("2026-09-01", "gh-north", "Two contacts per partner keep the work going."),
        ("2026-09-01", "gh-north", "Share results locally first."),
        ("2026-10-01", "gh-east", "Revised: start smaller."),  # the current version's only; "Start small." was v1
    ]
    assert all(list(x) == KEYS for x in lines)
    assert {(x["source"], x["principle"], x["shareable"]) for x in lines} == {("document", None, True)}
    assert {x["mission"] for x in lines} == {"USAID/Ghana", "USAID/Kenya"}


def test_both_sources_merge_by_date_then_partnership_with_the_assessments_as_given(store, capsys, assessments):
    stock(store)
    assessments([given("gh-north", "USAID/Ghana", date(2026, 9, 1), "Tell the district early.", shareable=False),
                 given("gh-east", "USAID/Ghana", date(2026, 9, 1), "Ask the midwives.", principle=None),
                 given("ke-lake", "USAID/Kenya", date(2026, 1, 2), "Rotate the chair.")])
    code, lines, _ = run(capsys)
    assert code == 0
    assert [(x["date"], x["partnership"], x["source"]) for x in lines] == [
        ("2026-01-02", "ke-lake", "assessment"),
        ("2026-03-01", "gh-north", "document"),
        ("2026-05-10", "ke-lake", "document"),
        ("2026-09-01", "gh-east", "document"),
        ("2026-09-01", "gh-east", "assessment"),
        ("2026-09-01", "gh-north", "document"),
        ("2026-09-01", "gh-north", "document"),
        ("2026-09-01", "gh-north", "assessment"),
    ]
    internal = next(x for x in lines if x["text"] == "Tell the district early.")
    assert (internal["principle"], internal["shareable"]) == ("share-information", False)
    assert next(x for x in lines if x["text"] == "Ask the midwives.")["principle"] is None


def test_the_mission_filter_ignores_case_and_hands_the_stored_spelling_to_the_assessments(store, capsys, assessments):
    stock(store)
    fake = assessments([given("ke-lake", "USAID/Kenya", date(2026, 1, 2), "Rotate the chair.")])
    code, lines, _ = run(capsys, "--mission", "usaid/KENYA")
    assert code == 0
    assert [(x["partnership"], x["source"]) for x in lines] == [("ke-lake", "assessment"), ("ke-lake", "document")]
    assert fake.calls[-1] == {"mission": "USAID/Kenya", "principle": None, "partnership": None}


def test_the_principle_filter_keeps_only_lessons_tagged_with_it_so_none_from_documents(store, capsys, assessments):
    stock(store)
    assessments([given("gh-north", "USAID/Ghana", date(2026, 9, 2), "Publish the results.", principle="share-information"),
                 given("gh-north", "USAID/Ghana", date(2026, 9, 3), "Keep the vision.", principle="shared-vision"),
                 given("gh-east", "USAID/Ghana", date(2026, 9, 4), "Untagged.", principle=None)])
    code, lines, _ = run(capsys, "--principle", "shared-vision")
    assert code == 0 and [x["text"] for x in lines] == ["Keep the vision."]


def test_the_partnership_filter_keeps_one_partnerships_lessons(store, capsys, assessments):
    stock(store)
    assessments([given("gh-east", "USAID/Ghana", date(2026, 9, 4), "Ask the midwives."),
                 given("gh-north", "USAID/Ghana", date(2026, 9, 4), "Not this one.")])
    code, lines, _ = run(capsys, "--partnership", "gh-east")
    assert code == 0 and [x["text"] for x in lines] == ["Start small.", "Ask the midwives."]


@pytest.mark.parametrize("args,said", [
    (["--mission", "USAID/Nowhere"],
     "isp: --mission: no partnership of mission 'USAID/Nowhere' is stored; known missions: USAID/Ghana, USAID/Kenya"),
    (["--principle", "sharing"], "isp: --principle: 'sharing' is not a principle of the handbook; the principles are: "
                                 "flexibility, resilience, creativity, productive-outcomes, shared-stake, "
                                 "long-term-small-steps, sector-distinctiveness, sincere-commitment, shared-vision, "
                                 "convene-stakeholders, share-information, organizations-not-individuals, "
                                 "local-context, local-ownership, mission-champion, dedicated-leaders"),
    (["--partnership", "gh-nowhere"], "isp: no partnership 'gh-nowhere' in the store (see `isp list`)"),
    (["--partnership", "x" * 10_000 + "\x1b[2J"],
     f"isp: --partnership: no partnership '{'x' * 80}'… (10004 characters) in the store (see `isp list`)"),
])
def test_an_unknown_mission_principle_or_partnership_is_refused_with_exit_2_and_one_line_changing_nothing(
        store, capsys, args, said):
    stock(store)
    before = dump(store)
    for fmt in ("text", "json"):
        assert main(["lessons", "--format", fmt, *args]) == 2
        out, err = capsys.readouterr()
        assert (out, err.splitlines()) == ("", [said])
    assert dump(store) == before


def test_text_output_is_readable_and_encodes_what_a_terminal_would_act_on(store, capsys, assessments):
    services.import_document(store, with_reviews(id="gh-north", reviews=[
        ("2026-03-01", ["<b>Bold</b> & first line\r\nsecond line"])]))
    assessments([given("gh-north", "USAID/Ghana", date(2026, 3, 2), f"{ESCAPE} \u202eevil", shareable=False)])
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert out.splitlines() == [
        "2026-03-01  gh-north  USAID/Ghana  [document]",
        "    <b>Bold</b> & first line\\x0d",
        "    second line",
        "2026-03-02  gh-north  USAID/Ghana  [assessment, share-information, internal]",
        "    \\x1b[31mred\\x1b[0m \\u202eevil",
    ]
    assert main(["lessons", "--format", "json"]) == 0
    raw = capsys.readouterr().out
    assert "\x1b" not in raw and "\u202e" not in raw and "\\u001b[31mred" in raw  # escaped, still valid JSON
    assert [json.loads(line)["text"] for line in raw.splitlines()] == [
        "<b>Bold</b> & first line\r\nsecond line", f"{ESCAPE} \u202eevil"]


def test_an_empty_register_says_so(store, capsys):
    services.import_document(store, with_reviews(id="gh-north"))
    assert main(["lessons"]) == 0
    assert capsys.readouterr().out == "no lessons (documents record them under reviews[].lessons)\n"
    assert main(["lessons", "--format", "json"]) == 0 and capsys.readouterr().out == ""


def test_a_document_changed_in_the_database_is_refused_not_read(store, capsys):
    from sqlalchemy import update

    from isp_lifecycle.store.models import DocumentVersion

    stock(store)  # a document no earlier test read (this process keeps what it read, by digest)
    services.import_document(store, with_reviews(id="gh-east", reviews=[("2026-09-02", ["Only here."])]))
    with store.sessions.begin() as session:
        session.execute(update(DocumentVersion).where(DocumentVersion.partnership_id == "gh-east")
                        .values(document=DocumentVersion.document + " "))
    assert main(["lessons"]) == 2
    assert "gh-east version 2 no longer matches the digest" in capsys.readouterr().err


def test_an_assessment_lesson_dated_with_a_moment_counts_as_its_day(store, capsys, assessments):
    from datetime import datetime

    stock(store)
    assessments([given("gh-east", "USAID/Ghana", datetime(2026, 9, 1, 23, 59), "Late in the day.")])
    code, lines, _ = run(capsys, "--partnership", "gh-east")
    assert code == 0 and [(x["date"], x["text"]) for x in lines] == [("2026-09-01", "Start small."),
                                                                      ("2026-09-01", "Late in the day.")]
