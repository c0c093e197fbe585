"""The hostile corpus (``corpus.py``, over 1,000 documents) through ``isp check`` and ``isp
import`` on SQLite and PostgreSQL: no traceback, no hang, every invalid one refused (exit 2)
at the path it breaks, bounded memory, bounded output. Many files go through one process;
a sample of the reported cases runs as separate processes too."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.store.conftest import backend, database_url, env  # noqa: F401  (fixtures)

from .corpus import ANY, corpus, write
from .run import batches, isp

BATCH = 300
PEAK_RSS_MB = 400  # a bound far above the measured peak (printed), far below a runaway
LONGEST_LINE = 1_000


@pytest.fixture(scope="module")
def cases():
    return corpus()


@pytest.fixture(scope="module")
def files(cases, tmp_path_factory):
    return write(cases, tmp_path_factory.mktemp("hostile"))


def problem_of(line: str, file: str) -> str | None:
    """``PATH: MESSAGE`` of a problem line about ``file`` (``FILE: …`` or ``FILE:LINE:COLUMN: …``)."""
    found = re.match(re.escape(file) + r"(?::\d+:\d+)?: ", line)
    return line[found.end():] if found else None


def _clean(ran) -> None:
    assert not ran.hung
    assert "Traceback" not in ran.stderr and "Traceback" not in ran.stdout
    assert ran.peak_rss_mb < PEAK_RSS_MB
    assert max(map(len, ran.stderr.splitlines()), default=0) <= LONGEST_LINE  # one problem a line
    assert "\x1b" not in ran.stdout + ran.stderr and "\r" not in ran.stdout + ran.stderr


def test_the_corpus_has_more_than_a_thousand_documents_and_every_reported_case(cases):
    assert len(cases) >= 1_000
    names = {c.name for c in cases}
    assert {"starts-with-marker", "flow-10000-deep-yaml", "flow-10000-deep-json", "block-2000-deep",
            "directive-1.3", "lone-surrogate-json", "nul-in-name-json", "email-trailing-newline",
            "email-comma", "email-angle", "script-in-name", "slack-mention-in-name", "huge-id",
            "esc-in-name", "over-1-mib"} <= names


@pytest.mark.slow
def test_isp_check_gives_every_hostile_document_a_clean_verdict_at_the_right_path(cases, files):
    peaks = []
    for group in batches(list(zip(cases, files)), BATCH):
        ran = isp(["check", "--format", "json", "--as-of", "2026-11-27", *[str(f) for _, f in group]])
        _clean(ran)
        peaks.append(ran.peak_rss_mb)
        lines = [json.loads(line) for line in ran.stdout.splitlines()]
        assert len(lines) == len(group)  # one answer per document: none was lost to a crash
        for (case, path), answer in zip(group, lines):
            _verdict_is_right(case, answer)
        worst = max(2 if "error" in a else (1 if not a["passed"] else 0) for a in lines)
        assert ran.status == worst
    print(f"isp check over {len(cases)} hostile documents: peak RSS {max(peaks):.0f} MB per process")


def _verdict_is_right(case, answer) -> None:
    if case.expect is None:
        assert "error" not in answer, (case.name, answer)
    elif case.expect != ANY:
        assert answer.get("error") in ("invalid", "unreadable"), (case.name, answer)
        assert case.expect in [p["path"] for p in answer["problems"]], (case.name, answer)
    for problem in answer.get("problems", ()):
        assert len(problem["message"]) < 400 and len(problem["path"]) < 200


SAMPLE = ["starts-with-marker", "flow-10000-deep-yaml", "flow-10000-deep-json", "directive-1.3",
          "lone-surrogate-json", "nul-in-name-yaml", "huge-id", "esc-in-name", "over-1-mib"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE)
def test_a_reported_case_alone_gets_its_verdict_and_exit_status(name, cases, files):
    case, path = next((c, f) for c, f in zip(cases, files) if c.name == name)
    ran = isp(["check", "--as-of", "2026-11-27", str(path)])
    _clean(ran)
    if case.expect is None:
        assert ran.status in (0, 1)
    else:
        assert ran.status == 2
        assert any((problem_of(line, str(path)) or "").startswith(f"{case.expect}: ") for line in ran.stderr.splitlines())


@pytest.mark.slow
def test_a_hostile_document_on_standard_input_is_refused_at_its_path(cases):
    case = next(c for c in cases if c.name == "nul-in-name-yaml")
    ran = isp(["check", "-"], stdin=case.data)
    _clean(ran)
    assert ran.status == 2
    assert (problem_of(ran.stderr.splitlines()[0], "-") or "").startswith("name: holds the control character U+0000")


@pytest.mark.slow
def test_isp_import_refuses_every_invalid_hostile_document_on_each_store(cases, files, env):  # noqa: F811
    child = dict(os.environ)
    peaks = []
    for group in batches(list(zip(cases, files)), BATCH):
        ran = isp(["import", *[str(f) for _, f in group]], env=child)
        _clean(ran)
        peaks.append(ran.peak_rss_mb)
        refused = {}
        for line in ran.stderr.splitlines():
            for _, path in group:
                if problem_of(line, str(path)) is not None:
                    refused.setdefault(str(path), []).append(problem_of(line, str(path)))
        for case, path in group:
            if case.expect is None:
                assert str(path) not in refused, (case.name, refused.get(str(path)))
            elif case.expect != ANY:
                assert any(p.startswith(f"{case.expect}: ") for p in refused.get(str(path), ())), case.name
        assert ran.status == 2
    print(f"isp import over {len(cases)} hostile documents: peak RSS {max(peaks):.0f} MB per process")
