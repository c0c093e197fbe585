"""Where a problem's path sits in the document's text (``isp_lifecycle.locations``), the one
mapping behind the CLI's FILE:LINE:COLUMN: and the web upload's "Line N"."""

import json
import time

import pytest

from isp_lifecycle.document import loads
from isp_lifecycle.errors import InvalidDocument
from isp_lifecycle.locations import located, positions, problem_line

from .conftest import KE

TEXT = """\
schema: isp/v1
partners:
  - id: a
    sector: business
  - id: b
"""


def problems(text: str, **kw):
    with pytest.raises(InvalidDocument) as exc:
        loads(text, **kw)
    return exc.value.problems


def test_a_field_is_placed_at_its_key_and_a_missing_one_at_the_mapping_that_lacks_it():
    where = positions(TEXT)
    assert where["partners[0].sector"] == (4, 5)
    assert where["partners[1]"] == (5, 5)
    placed = dict((p.path, place) for p, place in located(TEXT, problems(TEXT)))
    assert placed["partners[0].sector"] == (4, 5)
    assert placed["partners[1].name"] == (5, 5)  # required, absent: the item that lacks it
    assert placed["name"] is None  # absent at the top: nowhere to point


def test_json_text_is_placed_like_yaml():
    text = json.dumps({"schema": "isp/v1", "partners": [{"id": "a", "sector": "business"}]}, indent=2)
    found = {p.path: place for p, place in located(text, problems(text, json_only=True))}
    line = text.splitlines().index('      "sector": "business"') + 1
    assert found["partners[0].sector"] == (line, 7)


def test_a_problem_line_starts_with_file_line_and_column_when_known():
    (first, place), *_ = [(p, pl) for p, pl in located(TEXT, problems(TEXT)) if pl]
    assert problem_line("p.yaml", first, place) == f"p.yaml:{place[0]}:{place[1]}: {first}"
    assert problem_line("p.yaml", first, None) == f"p.yaml: {first}"


def test_text_that_does_not_parse_places_nothing_and_the_syntax_error_names_its_line():
    broken = "schema: isp/v1\npartners: [\n"
    (problem,) = problems(broken)
    assert positions(broken) == {} and located(broken, [problem]) == [(problem, None)]
    assert "line 3" in problem.message


def test_aliases_are_walked_once_however_often_they_are_used():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "\n".join(levels) + "\n"  # 10**9 leaves if expanded
    start = time.perf_counter()
    where = positions(text)
    assert time.perf_counter() - start < 10
    assert len(where) < 200 and where["a8"] == (9, 1)


def test_a_real_fixture_places_every_problem_it_has():
    text = open(KE).read().replace("country: KE", "country: UK")
    ((problem, place),) = located(text, problems(text))
    assert problem.path == "country"
    assert text.splitlines()[place[0] - 1][place[1] - 1:].startswith("country: UK")
