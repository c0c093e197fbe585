"""Stage gates: a document, a gate and a date → a ``Verdict`` with handbook-quoting findings.

One helper (``_findings``) builds every finding, whichever evaluator decided which
rules fired. Gates are cumulative (``RulePack.for_gate``); a rule listed at two
gates takes the stronger severity and is reported once.
"""

import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from .facts import GATES, project
from .model import Partnership
from .rulepack import Rule, RulePack, load_pack
from .vocabulary import Severity

GATE_OF_STAGE = {gate: gate for gate in GATES}  # leaving a stage passes its own gate; closed has none


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    principle: str
    severity: str
    subject: str
    message: str
    remediation: str
    quote: str
    title: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule, "principle": self.principle, "severity": self.severity, "subject": self.subject,
            "message": self.message, "remediation": self.remediation, "quote": self.quote,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    partnership: str
    gate: str
    as_of: date
    findings: tuple[Finding, ...]
    rules_version: str
    rules_digest: str
    name: str = ""

    @property
    def passed(self) -> bool:
        return not any(f.severity == Severity.BLOCKING for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "partnership": self.partnership, "gate": self.gate, "as_of": self.as_of.isoformat(),
            "passed": self.passed, "rules": {"version": self.rules_version, "digest": self.rules_digest},
            "findings": [f.to_json() for f in self.findings],
        }


class _Params(dict):
    """Message parameters. The rule loader refuses a placeholder no finding would carry, so the
    ``?`` shown for a missing one is a last defence, never a rule author's typo."""

    def __missing__(self, key: str) -> str:
        return "?"


_formatter = string.Formatter()


def _render(template: str, params: _Params) -> str:
    return _formatter.vformat(template, (), params)


def _findings(rule: Rule, gate: str, facts: dict[str, Any]) -> list[Finding]:
    severity = rule.severity_at(gate)
    items = facts[rule.each] if rule.each else [{}]
    if not items:  # the condition held but the list is empty: still one finding, never none
        items = [{}]
    out = []
    for item in items:
        params = _Params(facts)
        params.update(item)
        template = rule.message
        if isinstance(template, dict):
            template = template.get(item.get("case", ""), next(iter(template.values())))
        out.append(
            Finding(
                rule=rule.id, principle=rule.principle, severity=severity,
                subject=_render(rule.subject, params), message=_render(template, params),
                remediation=rule.remediation, quote=rule.quote, title=rule.title,
            )
        )
    return out


def findings_for(pack: RulePack, gate: str, fired: list[str], facts: dict[str, Any]) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for rule_id in dict.fromkeys(fired):
        found += _findings(pack.by_id[rule_id], gate, facts)
    found.sort(key=lambda f: (f.severity != "blocking", f.rule))  # stable: within a rule, list order
    return tuple(found)


class GateChecker:
    """Evaluates documents against gates with one rule pack and one evaluator."""

    def __init__(self, engine: str = "durable", pack: RulePack | None = None) -> None:
        from .engine import evaluator

        self.pack = pack or load_pack()
        self.evaluator = evaluator(self.pack, engine)

    def facts(self, doc: Partnership, as_of: date) -> dict[str, Any]:
        return project(doc, as_of, self.pack.government_core)

    def evaluate(self, doc: Partnership, gate: str, as_of: date, facts: dict[str, Any] | None = None) -> Verdict:
        """``facts``: ``self.facts(doc, as_of)`` when the caller already projected them (the review
        reads its alerts from the same projection)."""
        if gate not in GATES:
            raise ValueError(f"unknown gate {gate!r}: one of {', '.join(GATES)}")
        facts = self.facts(doc, as_of) if facts is None else facts
        fired = self.evaluator.fired(gate, facts)
        return Verdict(
            partnership=doc.id, gate=gate, as_of=as_of, findings=findings_for(self.pack, gate, fired, facts),
            rules_version=self.pack.version, rules_digest=self.pack.digest, name=doc.name,
        )


_checkers: dict[str, GateChecker] = {}


def evaluate(doc: Partnership, gate: str, as_of: date, engine: str = "durable") -> Verdict:
    """Evaluate ``doc`` leaving ``gate`` as of ``as_of`` with the installed rule pack."""
    checker = _checkers.get(engine)
    if checker is None:
        checker = _checkers[engine] = GateChecker(engine)
    return checker.evaluate(doc, gate, as_of)
