"""The rule pack: every file loads, every case holds, every gates.md row is covered."""

import re
from datetime import date

import pytest

from isp_lifecycle.cases import document_for, load_cases
from isp_lifecycle.errors import RulePackError
from isp_lifecycle.gates import GateChecker
from isp_lifecycle.rulepack import Rule, check_condition, load_pack, rule_files

from .conftest import ROOT


def _cases():
    pack = load_pack()
    base, cases = load_cases(pack.root, pack)
    return base, cases


BASE, CASES = _cases()
CHECKERS = {name: GateChecker(name) for name in ("durable", "python")}


def test_every_rule_file_loads_into_the_pack_with_a_unique_id(pack):
    assert len(pack.rules) == len(rule_files(pack.root)) == len({r.id for r in pack.rules})


def test_the_base_document_passes_every_gate_with_no_finding_at_all():
    doc = document_for(BASE, CASES[0].__class__(rule="-", kind="good", name="base", changes={},
                                                gate="review", as_of=date(2026, 11, 27)))
    for gate in ("convene", "commit", "implement", "review"):
        assert CHECKERS["durable"].evaluate(doc, gate, date(2026, 11, 27)).findings == ()


@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_rule_case_holds(case, engine, pack):
    doc = document_for(BASE, case)
    verdict = CHECKERS[engine].evaluate(doc, case.gate, case.as_of)
    mine = [f for f in verdict.findings if f.rule == case.rule]
    if case.kind == "good":
        assert mine == [], f"{case.label}: expected no finding, got {[f.subject for f in mine]}"
    else:
        assert [f.subject for f in mine] == case.expect, case.label
        expected_severity = case.severity or pack.by_id[case.rule].severity_at(case.gate)
        assert {f.severity for f in mine} == {expected_severity}


def test_every_rule_has_good_and_bad_cases(pack):
    for rule in pack.rules:
        kinds = {c.kind for c in CASES if c.rule == rule.id}
        assert kinds == {"good", "bad"}, f"{rule.id} needs good and bad cases, has {kinds}"


def _handbook_text() -> str:
    return " ".join((ROOT / "docs" / "learning-from-experience.txt").read_text().split())


def test_every_quote_is_the_handbook_word_for_word(pack):
    handbook = _handbook_text()
    for rule in pack.rules:
        assert rule.quote in handbook, f"{rule.id}: quote not found verbatim in the handbook"


def _gates_md_rows():
    rows, gate = [], None
    for line in (ROOT / "docs" / "spec" / "gates.md").read_text().splitlines():
        m = re.match(r"## (\w+) gate", line)
        if m:
            gate = m.group(1)
            continue
        if line.startswith("## "):
            gate = None
        if gate and line.startswith("| ") and not line.startswith("| principle"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 3:
                rows.append((gate, *cells))
    return rows


def _coverage():
    from isp_lifecycle.document import read_yaml

    return read_yaml((ROOT / "rules" / "coverage.yaml").read_text())["rows"]


def test_the_coverage_table_maps_exactly_the_rows_of_gates_md():
    spec = _gates_md_rows()
    assert len(spec) == 35
    mapped = [(r["gate"], r["principle"], r["severity"], r["row"]) for r in _coverage()]
    assert sorted(mapped) == sorted(spec)


@pytest.mark.parametrize("row", _coverage(), ids=lambda r: f"{r['gate']}:{r['rule']}")
def test_each_covered_row_has_its_rule_and_a_bad_case_that_fires_it_at_that_gate(row, pack):
    rule = pack.by_id.get(row["rule"])
    assert rule is not None, f"{row['rule']} is mapped but missing from the pack"
    assert rule.principle == row["principle"]
    assert rule.severity_at(row["gate"]) == row["severity"]
    assert rule.applies_at(row["gate"])
    firing = []
    for case in CASES:
        if case.rule == rule.id and case.kind == "bad":
            doc = document_for(BASE, case)
            verdict = CHECKERS["durable"].evaluate(doc, row["gate"], case.as_of)
            firing += [f for f in verdict.findings if f.rule == rule.id and f.severity == row["severity"]]
    assert firing, f"no bad case of {rule.id} fires at the {row['gate']} gate"


def test_a_condition_shared_by_two_gates_is_reported_once_with_the_stronger_severity():
    case = next(c for c in CASES if c.rule == "ISP110" and c.kind == "bad")
    doc = document_for(BASE, case)
    for gate, severity in (("convene", "advisory"), ("commit", "advisory"), ("implement", "blocking"),
                           ("review", "blocking")):
        found = [f for f in CHECKERS["durable"].evaluate(doc, gate, case.as_of).findings if f.rule == "ISP110"]
        assert [(f.subject, f.severity) for f in found] == [("partners.ghs", severity)]


def test_gates_are_cumulative_so_a_lost_business_partner_blocks_the_review_gate():
    case = next(c for c in CASES if c.rule == "ISP101" and c.kind == "bad")
    doc = document_for(BASE, case)
    verdict = CHECKERS["durable"].evaluate(doc, "review", case.as_of)
    assert not verdict.passed
    assert "ISP101" in {f.rule for f in verdict.findings}


def test_the_government_core_list_is_rule_data(tmp_path, pack):
    import shutil

    copy = tmp_path / "rules"
    shutil.copytree(pack.root, copy)
    vocab = copy / "vocabularies.yaml"
    vocab.write_text(vocab.read_text().replace("  - regulation\n", "  - regulation\n  - mobile_network\n"))
    edited = load_pack(copy, use_cache=False)
    assert edited.digest != pack.digest
    base_doc = document_for(BASE, CASES[0].__class__("-", "good", "base", {}, "commit", date(2026, 11, 27)))
    findings = GateChecker("python", edited).evaluate(base_doc, "commit", date(2026, 11, 27)).findings
    assert [(f.rule, f.subject) for f in findings] == [("ISP206", "partners.tamale-mobile")]


@pytest.mark.parametrize(
    "expr, complaint",
    [
        ({"$gt": {"has_local_context": 0}}, "compares numbers"),
        ({"no_such_fact": 1}, "unknown fact"),
        ({"$ex": {"leaders_count": 1}}, "not supported"),
        ({"leaders_count": "0"}, "compared with"),
        ({"$or": []}, "non-empty list"),
    ],
)
def test_a_condition_outside_the_shared_subset_is_refused_at_load(expr, complaint):
    with pytest.raises(RulePackError, match=complaint):
        check_condition(expr, "test")


def test_the_digest_and_version_appear_in_every_verdict(pack):
    doc = document_for(BASE, CASES[0])
    data = CHECKERS["durable"].evaluate(doc, "convene", date(2026, 11, 27)).to_json()
    assert data["rules"] == {"version": pack.version, "digest": pack.digest}
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", pack.digest)


def test_the_cached_pack_equals_a_fresh_parse(pack):
    fresh = load_pack.__wrapped__(pack.root) if hasattr(load_pack, "__wrapped__") else None
    from isp_lifecycle import rulepack

    parsed = rulepack._parse(pack.root, rule_files(pack.root), pack.digest)
    assert [r.to_json() for r in parsed.rules] == [r.to_json() for r in pack.rules]
    assert fresh is None or fresh.digest == pack.digest
    assert isinstance(pack.rules[0], Rule)


def test_a_typo_in_a_rule_message_placeholder_fails_the_load_naming_file_and_placeholder(tmp_path, pack):
    import shutil

    copy = tmp_path / "rules"
    shutil.copytree(pack.root, copy)
    rule = next(copy.glob("convene/ISP101-*[a-z].yaml"))
    rule.write_text(rule.read_text().replace("No {sector_name} partner", "No {sectr_name} partner"))
    with pytest.raises(RulePackError, match=r"convene/ISP101-.*: message: unknown placeholder \{sectr_name\}"):
        load_pack(copy, use_cache=False)


@pytest.mark.parametrize(
    "subject, message, each, complaint",
    [
        ("{subjet}", "x", "sectors_missing", r"subject: unknown placeholder \{subjet\}"),
        ("partners", "Partner {id}.", None, r"message: unknown placeholder \{id\}"),
        ("{subject}", "No {sector_nme}.", "sectors_missing", r"unknown placeholder \{sector_nme\}"),
        ("{subject}", "Lists are not text: {sectors_missing}.", "sectors_missing", "unknown placeholder"),
        ("{subject}", {"none": "x", "no-milstone": "{id}"}, "initiative_gaps", "'no-milstone' is not a case"),
        ("{subject}", {"none": "No initiative: {name}.", "no-milestone": "{id}"}, "initiative_gaps",
         r"message\[none\]: unknown placeholder \{name\}"),
        ("{subject}", {"x": "y"}, "sectors_missing", "it has none"),
        ("partners", "Unbalanced {brace", None, "literal brace"),
        ("partners", "Positional {} field", None, r"unknown placeholder \{\}"),
    ],
)
def test_a_placeholder_no_finding_would_carry_is_refused_at_load(subject, message, each, complaint):
    from isp_lifecycle.rulepack import check_messages

    with pytest.raises(RulePackError, match=complaint):
        check_messages(subject, message, each, "test")


def test_placeholders_of_facts_parameters_and_each_item_keys_are_accepted():
    from isp_lifecycle.rulepack import check_messages

    check_messages("{latest_review_subject}", "On {latest_review_date}: {leaders_count} leaders.", None, "test")
    check_messages("{subject}", {"none": "None.", "no-milestone": "'{id}' ({name}) {case}"}, "initiative_gaps", "t")
