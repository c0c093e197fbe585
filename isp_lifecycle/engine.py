"""Two evaluators of one rule pack: durable_rules (the default) and plain Python.

Both answer one question, "which rules fire on these facts?", for a gate. The
durable_rules evaluator drives the C extension ``durable_rules_engine`` directly,
defending against every crash mode measured on durable-rules 2.0.28 (each named below):

- an always-matching **sentinel** rule, so ``delete_state`` never meets a state where
  nothing matched (a segfault) and no ``MessageNotHandledException``;
- a **guard field** that only real facts carry, ANDed into every rule, so no rule
  can match the engine's own state fact (an endless loop);
- **one session id per evaluation**, and its state **always deleted** in ``finally``
  (more than 1024 live sessions crash the engine);
- **no background threads**: no ``durable.engine.Host`` (its timer threads race
  with callers); rulesets are created once per process, each under a unique name;
- **one lock** around every evaluation;
- **de-duplicated** firings (``$or`` fires once per true branch);
- **action exceptions surfaced**: a failing per-rule action is raised as
  ``RuleEngineError`` after the state is cleaned up, never swallowed.

The Python evaluator compiles the same conditions to closures; a property test
checks that both agree on random facts. Choose it (``--engine python``) where the
C extension cannot be built or imported (e.g. Python 3.13) or for bulk replays
where throughput matters more than running the reference engine.
"""

import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

from .errors import RuleEngineError
from .rulepack import RulePack

GUARD = "isp_facts"
GUARD_VALUE = "gate-v1"
SENTINEL = "__sentinel__"

# ------------------------------------------------------------------ python

_PY_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$neq": "!="}


def python_source(expr: dict[str, Any]) -> str:
    """A Python expression over ``f`` (the facts) equivalent to a durable_rules expression.

    Only the subset ``rulepack.check_condition`` admits reaches here: fact names are
    identifiers from ``facts.SCALARS`` and literals are ints or bools, so ``repr`` is safe.
    """
    (key, value), = expr.items()
    if key in ("$and", "$or"):
        joiner = " and " if key == "$and" else " or "
        return "(" + joiner.join(python_source(e) for e in value) + ")"
    if key in _PY_OPS:
        (name, literal), = value.items()
        return f"(f[{name!r}] {_PY_OPS[key]} {literal!r})"
    return f"(f[{key!r}] == {value!r})"


def compile_python(expr: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """One condition as a function of the facts."""
    return eval(compile(f"lambda f: {python_source(expr)}", "<rule>", "eval"), {})  # noqa: S307


class PythonEvaluator:
    """The rule files compiled to one plain Python function per gate."""

    name = "python"

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self._compiled: dict[str, Callable[[dict[str, Any]], list[str]]] = {}

    def source(self, gate: str) -> str:
        lines = ["def fired(f):", "    out = []"]
        for rule in self.pack.for_gate(gate):
            lines.append(f"    if {python_source(rule.when)}: out.append({rule.id!r})")
        lines.append("    return out")
        return "\n".join(lines)

    def _for(self, gate: str):
        compiled = self._compiled.get(gate)
        if compiled is None:
            namespace: dict[str, Any] = {}
            exec(compile(self.source(gate), f"<rules leaving {gate}>", "exec"), namespace)  # noqa: S102
            compiled = self._compiled[gate] = namespace["fired"]
        return compiled

    def fired(self, gate: str, facts: dict[str, Any]) -> list[str]:
        return self._for(gate)(facts)


# ------------------------------------------------------------------ durable

_lock = threading.Lock()
_sids = itertools.count(1)
_names = itertools.count(1)


class DurableEvaluator:
    """durable_rules behind one adapter. Rulesets are built once per gate and process."""

    name = "durable"

    def __init__(self, pack: RulePack, actions: dict[str, Callable[[dict], None]] | None = None) -> None:
        import durable_rules_engine  # the C extension; no Host, so no background threads

        self._engine = durable_rules_engine
        self.pack = pack
        self._rulesets: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._order = {r.id: i for i, r in enumerate(pack.rules)}
        # optional per-rule actions, run for each firing; their exceptions are surfaced
        self.actions = actions or {}

    def definition(self, gate: str) -> dict[str, Any]:
        guard = {GUARD: GUARD_VALUE}
        rules: dict[str, Any] = {SENTINEL: {"all": [{"m": guard}]}}
        for rule in self.pack.for_gate(gate):
            rules[rule.id] = {"all": [{"m": {"$and": [guard, rule.when]}}]}
        return rules

    def _ruleset(self, gate: str) -> tuple[int, tuple[str, ...]]:
        found = self._rulesets.get(gate)
        if found is None:
            name = f"isp-{gate}-{self.pack.digest[7:19]}-{next(_names)}"
            handle = self._engine.create_ruleset(name, json.dumps(self.definition(gate)))
            fields = tuple(sorted({f for r in self.pack.for_gate(gate) for f in r.fields}))
            found = self._rulesets[gate] = (handle, fields)
        return found

    def fired(self, gate: str, facts: dict[str, Any]) -> list[str]:
        engine = self._engine
        with _lock:
            handle, fields = self._ruleset(gate)
            sid = str(next(_sids))
            fact = {name: facts[name] for name in fields}
            fact[GUARD] = GUARD_VALUE
            fact["sid"] = sid
            fired: list[str] = []
            seen: set[str] = set()
            errors: list[BaseException] = []
            try:
                result = engine.assert_fact(handle, json.dumps(fact))
                if result[0] not in (0, 3):
                    raise RuleEngineError(f"durable_rules refused the facts (status {result[0]})")
                state = result[1]
                started = engine.start_action_for_state(handle, state)
                while started:
                    message = started[1] if isinstance(started, tuple) else started
                    # the message is {"<rule id>": {...}}: one action, named first
                    rule_id = message[2:message.index('"', 2)]
                    if rule_id != SENTINEL and rule_id not in seen:
                        seen.add(rule_id)
                        fired.append(rule_id)
                        action = self.actions.get(rule_id)
                        if action is not None:
                            try:
                                action(fact)
                            except Exception as exc:  # surfaced below, after clean-up
                                errors.append(exc)
                    started = engine.complete_and_start_action(handle, state)
            finally:
                engine.delete_state(handle, sid)
            if errors:
                raise RuleEngineError(f"a rule action failed: {errors[0]!r}") from errors[0]
            fired.sort(key=self._order.__getitem__)
            return fired


def evaluator(pack: RulePack, name: str = "durable"):
    if name == "durable":
        return DurableEvaluator(pack)
    if name == "python":
        return PythonEvaluator(pack)
    raise ValueError(f"unknown engine {name!r}: durable or python")
