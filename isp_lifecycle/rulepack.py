"""Loading the rule pack: ``rules/`` data files → validated ``Rule`` objects.

A rule file (one per rule, ``rules/<gate>/ISPnnn-name.yaml``) holds a permanent id,
a principle slug, the gate it starts at and its severity there (optionally a
stronger severity from a later gate), a title, a short quote of the handbook, a
remediation, the condition over the facts (a durable_rules expression) and how to
turn a firing into findings. Its good/bad cases sit beside it in
``ISPnnn-name.cases.yaml``. ``docs/rules.md`` is the authoring guide.

The pack's digest is a sha256 over the rule files and vocabularies (not the cases,
which decide nothing), so every verdict names exactly the rules that made it.
Parsing YAML is the slow part of loading, so the validated pack is cached as JSON
keyed by that digest: an edited rule file changes the digest and is parsed again.
"""

import hashlib
import json
import os
import string
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import RulePackError
from .facts import FACTS, FINDING_LISTS, GATES, PARAMETERS, SCALARS
from .vocabulary import SEVERITIES
PRINCIPLES = (
    "flexibility",
    "resilience",
    "creativity",
    "productive-outcomes",
    "shared-stake",
    "long-term-small-steps",
    "sector-distinctiveness",
    "sincere-commitment",
    "shared-vision",
    "convene-stakeholders",
    "share-information",
    "organizations-not-individuals",
    "local-context",
    "local-ownership",
    "mission-champion",
    "dedicated-leaders",
)
ORDERING = ("$gt", "$gte", "$lt", "$lte")
RULE_KEYS = {
    "id", "title", "principle", "gate", "severity", "escalate", "quote", "remediation",
    "when", "each", "subject", "message", "deprecated",
}
REQUIRED = ("id", "title", "principle", "gate", "severity", "quote", "remediation", "when", "subject", "message")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    principle: str
    gate: str
    severity: str
    quote: str
    remediation: str
    when: dict[str, Any]
    subject: str
    message: str | dict[str, str]
    each: str | None = None
    escalate: dict[str, str] = field(default_factory=dict)
    deprecated: bool = False
    source: str = ""

    def applies_at(self, gate: str) -> bool:
        return not self.deprecated and GATES.index(gate) >= GATES.index(self.gate)

    def severity_at(self, gate: str) -> str:
        """The rule's severity when leaving ``gate``: the strongest that applies by then."""
        severity = self.severity
        for later, stronger in self.escalate.items():
            if GATES.index(gate) >= GATES.index(later) and stronger == "blocking":
                severity = "blocking"
        return severity

    @cached_property
    def fields(self) -> frozenset[str]:
        return frozenset(condition_fields(self.when))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "principle": self.principle, "gate": self.gate,
            "severity": self.severity, "escalate": self.escalate, "quote": self.quote,
            "remediation": self.remediation, "when": self.when, "each": self.each,
            "subject": self.subject, "message": self.message, "deprecated": self.deprecated,
            "source": self.source,
        }


@dataclass(frozen=True)
class RulePack:
    version: str
    digest: str
    rules: tuple[Rule, ...]
    vocabularies: dict[str, tuple[str, ...]]
    root: Path

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def government_core(self) -> frozenset[str]:
        return frozenset(self.vocabularies.get("government_core", ()))

    def for_gate(self, gate: str) -> tuple[Rule, ...]:
        """The rules checked when leaving ``gate``: its own and every earlier gate's."""
        return tuple(r for r in self.rules if r.applies_at(gate))


# ------------------------------------------------------------------ conditions

def condition_fields(expr: Any) -> list[str]:
    """The fact names an expression reads."""
    out: list[str] = []
    if isinstance(expr, dict):
        for key, value in expr.items():
            if key in ("$and", "$or"):
                for sub in value:
                    out += condition_fields(sub)
            elif key in ORDERING or key == "$neq":
                out += list(value)
            else:
                out.append(key)
    return out


def check_condition(expr: Any, where: str) -> None:
    """Refuse anything outside the subset both evaluators implement identically."""
    if not isinstance(expr, dict) or len(expr) != 1:
        raise RulePackError(f"{where}: a condition is a mapping with exactly one key, got {expr!r}")
    (key, value), = expr.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise RulePackError(f"{where}: {key} takes a non-empty list of conditions")
        for i, sub in enumerate(value):
            check_condition(sub, f"{where}.{key}[{i}]")
        return
    if key in ORDERING or key == "$neq":
        if not isinstance(value, dict) or len(value) != 1:
            raise RulePackError(f"{where}: {key} takes one {{fact: value}} pair")
        (name, literal), = value.items()
        kind = SCALARS.get(name)
        if kind is None:
            raise RulePackError(f"{where}: unknown fact {name!r} (see the catalogue in isp_lifecycle/facts.py)")
        if key in ORDERING and kind is not int:
            raise RulePackError(f"{where}: {key} compares numbers, but {name!r} is {kind.__name__}")
        if type(literal) is not kind:
            raise RulePackError(f"{where}: {name!r} is {kind.__name__}, compared with {literal!r}")
        return
    if key.startswith("$"):
        raise RulePackError(f"{where}: operator {key!r} is not supported (use $and $or $gt $gte $lt $lte $neq)")
    kind = SCALARS.get(key)
    if kind is None:
        raise RulePackError(f"{where}: unknown fact {key!r} (see the catalogue in isp_lifecycle/facts.py)")
    if type(value) is not kind:
        raise RulePackError(f"{where}: {key!r} is {kind.__name__}, compared with {value!r}")


# ------------------------------------------------------------------ messages

_formatter = string.Formatter()


def check_template(template: str, allowed: frozenset[str] | set[str], where: str) -> None:
    """Refuse a subject or message naming a ``{placeholder}`` no finding would carry.

    Checked at load so that a typo fails loudly here instead of rendering ``?``.
    """
    try:
        parts = list(_formatter.parse(template))
    except ValueError as exc:
        raise RulePackError(f"{where}: {exc} in {template!r} (write a literal brace as {{{{ or }}}})") from None
    for _literal, name, spec, _conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            raise RulePackError(
                f"{where}: unknown placeholder {{{name}}}; one of: {', '.join(sorted(allowed))}"
            )
        if spec and "{" in spec:
            raise RulePackError(f"{where}: placeholder {{{name}}} has a nested field in its format")


def check_messages(subject: str, message: str | dict[str, str], each: str | None, where: str) -> None:
    """Every placeholder of ``subject`` and ``message`` is a fact or a key of the ``each`` list's items."""
    always = frozenset(SCALARS).union(PARAMETERS)
    listed = FACTS[each] if each else None
    named = always | listed.keys if listed else always
    check_template(subject, named, f"{where}: subject")
    if not isinstance(message, dict):
        check_template(message, named, f"{where}: message")
        return
    for case, template in message.items():
        if case not in listed.cases:
            raise RulePackError(
                f"{where}: message case {case!r} is not a case of {each} "
                f"({', '.join(listed.cases) or 'it has none'})"
            )
        if not isinstance(template, str):
            raise RulePackError(f"{where}: message for case {case!r} must be text")
        check_template(template, always | listed.cases[case], f"{where}: message[{case}]")


# ------------------------------------------------------------------ loading

def default_root() -> Path:
    # The rule files are installed as plain files beside this package's rules/__init__.py
    # (never zipped), so the package's directory is enough; importlib.resources would cost
    # `isp check` a dozen more modules at start-up.
    from . import rules

    return Path(rules.__file__).parent


def rule_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/ISP*.yaml") if not p.name.endswith(".cases.yaml"))


def case_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/ISP*.cases.yaml"))


def _digest(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.version = (1, 2)
    return y


def _parse_rule(data: Any, path: Path, root: Path) -> Rule:
    where = path.relative_to(root).as_posix()
    if not isinstance(data, dict):
        raise RulePackError(f"{where}: a rule file holds a mapping")
    unknown = set(data) - RULE_KEYS
    if unknown:
        raise RulePackError(f"{where}: unknown keys {sorted(unknown)}")
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise RulePackError(f"{where}: missing {missing}")
    if not path.name.startswith(str(data["id"]) + "-"):
        raise RulePackError(f"{where}: file name must start with the rule id {data['id']}-")
    if data["principle"] not in PRINCIPLES:
        raise RulePackError(f"{where}: unknown principle {data['principle']!r}")
    if data["gate"] not in GATES or path.parent.name != data["gate"]:
        raise RulePackError(f"{where}: gate {data['gate']!r} must be one of {GATES} and match its folder")
    if data["severity"] not in SEVERITIES:
        raise RulePackError(f"{where}: severity must be blocking or advisory")
    escalate = data.get("escalate") or {}
    for g, s in escalate.items():
        if g not in GATES or GATES.index(g) <= GATES.index(data["gate"]) or s not in SEVERITIES:
            raise RulePackError(f"{where}: escalate maps a later gate to a severity, got {g}: {s}")
    each = data.get("each")
    if each is not None and each not in FINDING_LISTS:
        raise RulePackError(f"{where}: each: {each!r} is not a facts list ({', '.join(FINDING_LISTS)})")
    message = data["message"]
    if isinstance(message, dict) and not each:
        raise RulePackError(f"{where}: a message per case needs 'each'")
    if not isinstance(data["subject"], str) or not isinstance(message, (str, dict)):
        raise RulePackError(f"{where}: subject is text; message is text or a mapping of case to text")
    check_condition(data["when"], f"{where}: when")
    check_messages(data["subject"], message, each, f"{where}")
    return Rule(
        id=data["id"], title=data["title"].strip(), principle=data["principle"], gate=data["gate"],
        severity=data["severity"], quote=" ".join(data["quote"].split()),
        remediation=" ".join(data["remediation"].split()), when=data["when"], subject=data["subject"],
        message=message, each=each, escalate=dict(escalate), deprecated=bool(data.get("deprecated", False)),
        source=where,
    )


def _parse(root: Path, files: list[Path], digest: str) -> RulePack:
    y = _yaml()
    pack_meta = y.load((root / "pack.yaml").read_text("utf-8"))
    vocab = y.load((root / "vocabularies.yaml").read_text("utf-8"))
    rules = [_parse_rule(y.load(p.read_text("utf-8")), p, root) for p in files]
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RulePackError(f"rule id {r.id} is used twice")
        seen.add(r.id)
    return RulePack(
        version=str(pack_meta["version"]), digest=digest, rules=tuple(sorted(rules, key=lambda r: r.id)),
        vocabularies={k: tuple(v) for k, v in vocab.items()}, root=root,
    )


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "isp-lifecycle"


def _from_json(data: dict[str, Any], root: Path) -> RulePack:
    rules = tuple(
        Rule(**{k: v for k, v in r.items()}) for r in data["rules"]
    )
    return RulePack(
        version=data["version"], digest=data["digest"], rules=rules,
        vocabularies={k: tuple(v) for k, v in data["vocabularies"].items()}, root=root,
    )


def _catalogue_key() -> str:
    """A short hash of the facts catalogue: a pack cached under another catalogue was checked
    against other names, so it is parsed (and checked) again."""
    text = ";".join(
        f"{f.name} {f.kind} {' '.join(sorted(f.keys))} {' '.join(c + ':' + ','.join(sorted(k)) for c, k in f.cases.items())}"
        for f in FACTS.values()
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_loaded: dict[str, RulePack] = {}


def load_pack(root: Path | None = None, *, use_cache: bool = True) -> RulePack:
    """Load (once per process) the rule pack at ``root`` (default: the installed ``rules/``)."""
    root = Path(root) if root else default_root()
    files = rule_files(root)
    if not files:
        raise RulePackError(f"no rule files under {root}")
    digest = _digest(root, files + [root / "pack.yaml", root / "vocabularies.yaml"])
    if digest in _loaded:
        return _loaded[digest]
    cache = _cache_dir() / f"pack-{digest.split(':')[1][:32]}-{_catalogue_key()}.json"
    pack = None
    if use_cache:
        try:
            pack = _from_json(json.loads(cache.read_text("utf-8")), root)
        except (OSError, ValueError, KeyError, TypeError):
            pack = None
    if pack is None:
        pack = _parse(root, files, digest)
        if use_cache:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps({
                    "version": pack.version, "digest": pack.digest,
                    "vocabularies": {k: list(v) for k, v in pack.vocabularies.items()},
                    "rules": [r.to_json() for r in pack.rules],
                }), "utf-8")
                os.replace(tmp, cache)
            except OSError:
                pass
    _loaded[digest] = pack
    return pack
