"""Whatever text comes in, reading it ends in a document or an ``InvalidDocument`` /
``UnreadableDocument`` naming paths: never another exception (hypothesis, in-process)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isp_lifecycle.document import decode, loads
from isp_lifecycle.errors import InvalidDocument, UnreadableDocument

from ..conftest import examples
from .corpus import FIXTURES, HOSTILE_SNIPPETS

BASE = (FIXTURES / "gh-mnh-north.yaml").read_text("utf-8")
YAMLISH = st.text(alphabet=st.sampled_from(list("ab1 :-,[]{}&*!|>'\"#%?\n\t\r\\\x00\x1b\x85\u2028\ud800é")), max_size=200)
SETTINGS = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(text: str, json_only: bool = False) -> None:
    try:
        doc = loads(text, "t", json_only=json_only)
    except InvalidDocument as exc:
        assert exc.problems and all(p.path and p.message for p in exc.problems)
        assert all(len(p.path) < 200 and len(p.message) < 600 for p in exc.problems)
    else:
        assert doc.id


@SETTINGS
@given(YAMLISH)
def test_any_short_yaml_text_is_read_or_refused_with_paths(text):
    _read(text)
    _read(text, json_only=True)


@SETTINGS
@given(st.integers(0, len(BASE)), st.sampled_from(HOSTILE_SNIPPETS + ["\x00", "\ud800", "&x [*x]", "*x"]), YAMLISH)
def test_the_fixture_with_anything_spliced_in_is_read_or_refused_with_paths(at, snippet, noise):
    _read(BASE[:at] + snippet + noise + BASE[at:])


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_are_read_refused_or_unreadable(raw):
    try:
        text = decode(raw, "t")
    except UnreadableDocument:
        return
    _read(text)


@SETTINGS
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=40))
def test_any_json_value_in_any_field_is_read_or_refused_with_paths(value):
    data = {"schema": "isp/v1", "id": "prop-case", "name": "P", "country": "GH", "mission": "M",
            "stage": "convene", "started": "2026-01-15", "partners": value}
    _read(json.dumps(data, allow_nan=True), json_only=True)
