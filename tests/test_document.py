"""Reading isp/v1 documents: valid ones load, invalid ones name every bad field by path."""

import json

import pytest

from isp_lifecycle.document import load, loads
from isp_lifecycle.errors import InvalidDocument, UnreadableDocument

from .conftest import FIXTURES

MINIMAL = """schema: isp/v1
id: ke-water-kisumu
name: Kisumu Water
country: KE
mission: USAID/Kenya
stage: convene
started: 2026-09-01
"""


def problems(text: str, **kw) -> list[str]:
    with pytest.raises(InvalidDocument) as exc:
        loads(text, "doc.yaml", **kw)
    return [str(p) for p in exc.value.problems]


def test_both_examples_load():
    for path in sorted(FIXTURES.glob("*.yaml")):
        assert load(path).schema_ == "isp/v1"


def test_yaml_1_2_reads_no_as_norway_and_yes_as_text():
    doc = loads(MINIMAL.replace("country: KE", "country: NO") + "local_context: yes\n")
    assert doc.country == "NO"
    assert doc.local_context == "yes"


def test_a_document_declaring_yaml_1_1_is_refused_and_does_not_change_how_later_ones_are_read():
    old = "%YAML 1.1\n---\n" + MINIMAL.replace("country: KE", "country: NO")
    assert problems(old) == [
        "(document): the document declares %YAML 1.1, but isp/v1 documents are read as YAML 1.2 "
        "(where yes/no/NO are text): remove the %YAML line or make it %YAML 1.2"
    ]
    assert loads(MINIMAL.replace("country: KE", "country: NO")).country == "NO"
    assert loads("%YAML 1.2\n---\n" + MINIMAL.replace("country: KE", "country: NO")).country == "NO"


def test_an_explicit_null_is_the_same_as_leaving_the_field_out():
    doc = loads(MINIMAL + "stage_entered: null\npartners:\n  - {id: ab, name: A, sector: public, local: ~}\n")
    assert doc.stage_entered is None
    assert doc.partners[0].local is False


def test_a_required_field_given_as_null_is_reported_as_required():
    assert problems(MINIMAL.replace("name: Kisumu Water", "name: null")) == ["name: is required"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ["(document): the document is empty"]),
        ("# only a comment\n", ["(document): the document is empty"]),
        ("- a\n- b\n", ["(document): must be a mapping of fields, found a list"]),
        ("id: [unclosed\n", None),
    ],
)
def test_documents_that_are_not_mappings_are_refused_at_the_document_path(text, expected):
    found = problems(text)
    if expected is None:
        assert len(found) == 1 and found[0].startswith("(document): YAML syntax error at line")
    else:
        assert found == expected


def test_a_key_given_twice_is_an_error():
    found = problems(MINIMAL + "name: Again\n")
    assert len(found) == 1 and found[0].startswith("(document):") and '"name"' in found[0]


def test_a_key_given_twice_in_json_is_an_error():
    data = json.dumps({"schema": "isp/v1"})[:-1] + ', "schema": "isp/v1"}'
    assert problems(data, json_only=True) == ['(document): duplicate key "schema": a key may appear only once']


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("partners:\n  - {id: ab, name: A, sector: govt}\n",
         "partners[0].sector: must be one of public, private, civil_society"),
        ("partners:\n  - {id: ab, name: A, sector: public, local: 'yes'}\n", "partners[0].local: must be true or false"),
        ("partners:\n  - {id: ab, name: A, sector: public, secter: public}\n",
         "partners[0].secter: unknown field; did you mean 'sector'?"),
        ("zzzz: red\n", "zzzz: unknown field"),
        ("trainings:\n  - {date: 2026-01-05, topic: T, attendees: '12'}\n", "trainings[0].attendees: must be a whole number"),
        ("trainings:\n  - {date: 2026-01-05, topic: T, attendees: -1}\n", "trainings[0].attendees: must be at least 0"),
        ("mission_director: {name: D, email: d@mission}\n",
         "mission_director.email: 'd@mission' is not an email address (local@domain.tld)"),
        ("vision: {adopted: 2026-02-30}\n", "vision.adopted: 2026-02-30 is not a real date"),
        ("vision: {adopted: 26-02-03}\n", "vision.adopted: must be a date written YYYY-MM-DD, not '26-02-03'"),
        ("vision: {adopted: 2026-02-03T10:00:00}\n",
         "vision.adopted: must be a date written YYYY-MM-DD, not '2026-02-03T10:00:00'"),
        ("partners:\n  - {id: ab, name: A, sector: public, responsibilities: [National-Health]}\n",
         "partners[0].responsibilities[0]: 'National-Health' is not a lower_snake tag (e.g. national_health_services)"),
        ("partners:\n  - id: ab\n    name: A\n    sector: public\n    commitment:\n      resources: [{kind: financial, amount: 0, unit: USD}]\n",
         "partners[0].commitment.resources[0].amount: must be greater than 0"),
        ("leaders: [{name: '  ', email: a@b.org}]\n", "leaders[0].name: must not be blank"),
    ],
)
def test_each_bad_field_is_named_by_its_path(extra, expected):
    assert problems(MINIMAL + extra) == [expected]


@pytest.mark.parametrize("code, ok", [("GB", True), ("XK", True), ("UK", False), ("EU", False), ("gb", False)])
def test_country_must_be_an_assigned_code(code, ok):
    text = MINIMAL.replace("country: KE", f"country: {code}")
    if ok:
        assert loads(text).country == code
    else:
        assert problems(text)[0].startswith("country: ")


@pytest.mark.parametrize("slug", ["a", "Ab", "-ab", "a_b", "a" * 64])
def test_ids_must_be_slugs(slug):
    assert problems(MINIMAL.replace("id: ke-water-kisumu", f"id: '{slug}'"))[0].startswith("id: ")


def test_cross_references_are_checked_and_reported_with_field_errors_together():
    text = MINIMAL + """stage_entered: 2026-01-01
leaders: [{name: L, email: l@x.org, partner: nobody}]
partners:
  - {id: ab, name: A, sector: public, commitment: {signed: 2026-05-01, until: 2026-04-30}}
  - {id: ab, name: B, sector: nonsense}
initiatives:
  - {id: i1, name: I, lead: ab, partners: [zz]}
  - {id: i1, name: J, lead: zz, partners: [ab]}
"""
    assert problems(text) == [
        "partners[1].sector: must be one of public, private, civil_society",
        "partners[0].commitment.until: 2026-04-30 is before the commitment was signed (2026-05-01)",
        "partners[1].id: duplicate partner id 'ab'",
        "leaders[0].partner: names no partner: 'nobody' is not a partner id",
        "initiatives[0].partners[0]: names no partner: 'zz' is not a partner id",
        "initiatives[0].lead: the lead 'ab' must also be listed in the initiative's partners",
        "initiatives[1].id: duplicate initiative id 'i1'",
        "initiatives[1].lead: names no partner: 'zz' is not a partner id",
        "stage_entered: 2026-01-01 is before the partnership started (2026-09-01)",
    ]


def test_emails_and_schema_are_checked_exactly():
    assert problems(MINIMAL.replace("isp/v1", "isp/v2")) == ["schema: must be one of isp/v1"]


def test_unreadable_files_say_why(tmp_path):
    with pytest.raises(UnreadableDocument, match="no such file"):
        load(tmp_path / "missing.yaml")
    with pytest.raises(UnreadableDocument, match="directory"):
        load(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(MINIMAL.replace("Kisumu", "K\xe9sumu").encode("latin-1"))
    with pytest.raises(UnreadableDocument, match="not UTF-8"):
        load(latin)


def test_json_documents_load_like_yaml(tmp_path):
    doc = load(FIXTURES / "gh-mnh-north.yaml")
    path = tmp_path / "gh.json"
    path.write_text(json.dumps(doc.to_data()))
    assert load(path) == doc
