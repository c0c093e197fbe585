"""The durable_rules adapter survives every measured crash mode and agrees with the Python evaluator."""

import subprocess
import sys
import threading
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isp_lifecycle.engine import DurableEvaluator, PythonEvaluator
from isp_lifecycle.errors import RuleEngineError
from isp_lifecycle.facts import GATES, SCALARS

from .conftest import FIXTURES, ROOT, examples

fact_values = st.fixed_dictionaries(
    {name: (st.booleans() if kind is bool else st.integers(min_value=0, max_value=3)) for name, kind in SCALARS.items()}
)


@pytest.fixture(scope="module")
def durable(pack):
    return DurableEvaluator(pack)


@pytest.fixture(scope="module")
def python(pack):
    return PythonEvaluator(pack)


@settings(max_examples=examples(300), deadline=None)
@given(facts=fact_values, gate=st.sampled_from(GATES))
def test_both_evaluators_fire_the_same_rules_on_random_facts(facts, gate, durable, python):
    assert durable.fired(gate, facts) == python.fired(gate, facts)


@settings(max_examples=examples(100), deadline=None)
@given(facts=fact_values, gate=st.sampled_from(GATES))
def test_both_evaluators_give_identical_findings_on_random_facts(facts, gate, pack):
    from isp_lifecycle.gates import findings_for

    full = dict(facts)
    full.update({"latest_review_subject": "reviews[0]", "latest_review_date": "2026-01-01"})
    for rule in pack.rules:
        if rule.each:
            full[rule.each] = [{"subject": f"{rule.each}.x", "id": "x", "name": "X"}]
    a = findings_for(pack, gate, DurableEvaluator(pack).fired(gate, full), full)
    b = findings_for(pack, gate, PythonEvaluator(pack).fired(gate, full), full)
    assert a == b


def test_a_fact_where_only_the_sentinel_matches_does_not_crash_a_fresh_process():
    # Without the sentinel rule, deleting such a state segfaults (10 of 10 fresh processes).
    script = (
        "from datetime import date\n"
        "from isp_lifecycle.document import load\n"
        "from isp_lifecycle.gates import GateChecker\n"
        f"doc = load({str(FIXTURES / 'gh-mnh-north.yaml')!r})\n"
        "v = GateChecker('durable').evaluate(doc, 'convene', date(2026, 11, 27))\n"
        "print(len(v.findings))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_thousands_of_evaluations_leave_no_session_alive(durable, python):
    # More than 1024 live session ids per ruleset is a MemoryError and then a segfault.
    facts = {name: (False if kind is bool else 0) for name, kind in SCALARS.items()}
    for i in range(3000):
        facts["leaders_count"] = i % 2
        assert durable.fired("convene", facts) == python.fired("convene", facts)


def test_an_action_that_raises_is_surfaced_and_the_engine_keeps_working(pack, python):
    def boom(fact):
        raise ValueError("broken action")

    evaluator = DurableEvaluator(pack, actions={"ISP106": boom})
    facts = {name: (False if kind is bool else 0) for name, kind in SCALARS.items()}
    with pytest.raises(RuleEngineError, match="broken action"):
        evaluator.fired("convene", facts)
    facts["leaders_count"] = 1
    assert evaluator.fired("convene", facts) == python.fired("convene", facts)


def test_an_or_condition_true_on_both_branches_fires_once(durable):
    facts = {name: (True if kind is bool else 0) for name, kind in SCALARS.items()}
    facts.update(has_vision_statement=False, vision_adopted=False)
    assert durable.fired("commit", facts).count("ISP205") == 1


def test_evaluations_from_many_threads_agree_with_the_python_evaluator(durable, python):
    errors = []
    before = threading.active_count()

    def work(seed):
        try:
            for i in range(300):
                facts = {name: ((i + seed + k) % 2 == 0 if kind is bool else (i * k + seed) % 3)
                         for k, (name, kind) in enumerate(SCALARS.items())}
                gate = GATES[(i + seed) % 4]
                assert durable.fired(gate, facts) == python.fired(gate, facts)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert threading.active_count() == before  # the adapter starts no background threads


def test_only_the_fields_the_rules_read_are_sent_to_the_engine(durable, pack):
    definition = durable.definition("convene")
    assert "__sentinel__" in definition
    assert all(r.id in definition for r in pack.for_gate("convene"))
    assert not any(r.id in definition for r in pack.rules if r.gate == "review")
