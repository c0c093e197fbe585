"""A hostile corpus of partnership documents, generated the same way on every run.

Three parts:
- the cases reported against the reader (document markers, deep nesting, ``%YAML 1.3``, lone
  surrogates, NUL and other control characters, hostile emails, markup in names, huge values,
  alias bombs, Python tags, …), each with the verdict it must get;
- field mutations: a fixture with one string field replaced by a hostile value, written as
  YAML or JSON: invalid exactly at that field's path when the value breaks the limits there;
- text mutations: a mutation fuzzer (seeded) over the fixtures' text: lines dropped, doubled,
  re-indented or cut, hostile characters spliced in. No particular verdict, only a clean one.

``expect`` is the path the first problem must name (``None``: a valid document;
``ANY``: valid or invalid, but no traceback and no hang).
"""

from __future__ import annotations

import copy
import functools
import json
import random
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANY = "*"
DOC = "(document)"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str  # .yaml or .json: how the reader reads it
    data: bytes
    expect: str | None  # the path of an expected problem, None (valid) or ANY


def _fixture(name: str = "gh-mnh-north.yaml") -> dict:
    """A fresh copy of the fixture, read (through the project's reader) once per run."""
    return copy.deepcopy(_read_fixture(name))


@functools.cache
def _read_fixture(name: str) -> dict:
    from isp_lifecycle.document import read_yaml

    return read_yaml((FIXTURES / name).read_text("utf-8"))


def _base_text() -> str:
    return (FIXTURES / "gh-mnh-north.yaml").read_text("utf-8")


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _json_ascii(data) -> bytes:
    return json.dumps(data, ensure_ascii=True).encode("ascii")


def _with(path: tuple, value, name: str = "gh-mnh-north.yaml") -> dict:
    data = _fixture(name)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def _minimal(**fields) -> dict:
    data = {"schema": "isp/v1", "id": "hostile-case", "name": "Hostile Case", "country": "GH",
            "mission": "USAID/Ghana", "stage": "convene", "started": "2026-01-15"}
    data.update(fields)
    return data


def reported_cases() -> list[Case]:
    """Every case of the report, and its neighbours."""
    base = _base_text()
    flow_yaml = "schema: isp/v1\nid: deep\nname: " + "[" * 10_000 + "]" * 10_000 + "\n"
    deep_json = _minimal()
    deep_json_text = json.dumps(deep_json)[:-1] + ', "goals": ' + "[" * 10_000 + "]" * 10_000 + "}"
    block = "x:\n" + "".join("  " * i + "a:\n" for i in range(1, 2001)) + "  " * 2001 + "b\n"
    cases = [
        Case("starts-with-marker", "a.yaml", ("---\n" + base).encode(), None),
        Case("marker-and-end", "a.yaml", ("---\n" + base + "...\n").encode(), None),
        Case("directive-1.2", "a.yaml", ("%YAML 1.2\n---\n" + base).encode(), None),
        Case("marker-only", "a.yaml", b"---\n", DOC),
        Case("marker-end-only", "a.yaml", b"---\n...\n", DOC),
        Case("empty", "a.yaml", b"", DOC),
        Case("two-documents", "a.yaml", ("---\n" + base + "---\n" + base).encode(), DOC),
        Case("directive-1.3", "a.yaml", ("%YAML 1.3\n---\n" + base).encode(), DOC),
        Case("directive-1.1", "a.yaml", ("%YAML 1.1\n---\n" + base).encode(), DOC),
        Case("directive-2.0", "a.yaml", ("%YAML 2.0\n---\n" + base).encode(), DOC),
        Case("flow-10000-deep-yaml", "a.yaml", flow_yaml.encode(), DOC),
        Case("flow-10000-deep-json-as-yaml", "a.yaml", deep_json_text.encode(), DOC),
        Case("flow-10000-deep-json", "a.json", deep_json_text.encode(), DOC),
        Case("block-2000-deep", "a.yaml", ("schema: isp/v1\n" + block).encode(), DOC),
        Case("nesting-33", "a.json", _json(_minimal(goals=_nest(32))), DOC),
        Case("lone-surrogate-json", "a.json", _json_ascii(_minimal(name="Bad \ud800 name")), "name"),
        Case("lone-surrogate-yaml", "a.yaml", base.replace("name: Northern", 'name: "\\ud800 Northern', 1)
             .replace("Health Partnership\n", 'Health Partnership"\n', 1).encode(), "name"),
        Case("nul-in-name-json", "a.json", _json(_with(("name",), "North\x00ern")), "name"),
        Case("nul-in-name-yaml", "a.yaml", base.replace("name: Northern", 'name: "\\0Northern', 1)
             .replace("Health Partnership\n", 'Health Partnership"\n', 1).encode(), "name"),
        Case("nul-in-partner-name", "a.json", _json(_with(("partners", 0, "name"), "G\x00HS")), "partners[0].name"),
        Case("email-trailing-newline", "a.json", _json(_with(("delegates",), [
            {"name": "Efua Owusu", "email": "eowusu@mission.example.org\n"}])), "delegates[0].email"),
        Case("email-comma", "a.json", _json(_with(("mission_director", "email"), "x,victim@evil.example.org")),
             "mission_director.email"),
        Case("email-angle", "a.json", _json(_with(("mission_director", "email"), "a<b>;c@evil.example.org")),
             "mission_director.email"),
        Case("email-header", "a.json", _json(_with(("mission_director", "email"),
                                                   "a@b.example.org\r\nBcc: victim@evil.example.org")),
             "mission_director.email"),
        Case("email-too-long", "a.json", _json(_with(("mission_director", "email"), "a" * 250 + "@b.example.org")),
             "mission_director.email"),
        Case("email-unicode", "a.json", _json(_with(("mission_director", "email"), "ñame@b.example.org")),
             "mission_director.email"),
        Case("email-space", "a.json", _json(_with(("mission_director", "email"), "a b@b.example.org")),
             "mission_director.email"),
        Case("email-quoted", "a.json", _json(_with(("mission_director", "email"), '"a"@b.example.org')),
             "mission_director.email"),
        Case("email-no-dot", "a.json", _json(_with(("mission_director", "email"), "a@localhost")),
             "mission_director.email"),
        Case("script-in-name", "a.json", _json(_with(("name",), "</title><script>alert(1)</script>")), None),
        Case("slack-mention-in-name", "a.json", _json(_with(("name",), "<!here> & <!channel>")), None),
        Case("huge-id", "a.json", _json(_with(("id",), "x" * 100_000)), "id"),
        Case("cr-in-name", "a.json", _json(_with(("name",), "North\rSubject: x")), "name"),
        Case("lf-in-name", "a.json", _json(_with(("name",), "North\nBcc: x@evil.example.org")), "name"),
        Case("esc-in-name", "a.json", _json(_with(("name",), "North\x1b[2J\x1b]0;owned\x07")), "name"),
        Case("c1-in-mission", "a.json", _json(_with(("mission",), "USAID\x85Ghana")), "mission"),
        Case("del-in-unit", "a.json", _json(_with(("partners", 0, "commitment", "resources", 0, "unit"), "FT\x7fE")),
             "partners[0].commitment.resources[0].unit"),
        Case("tab-in-role", "a.json", _json(_with(("partners", 0, "contacts", 0, "role"), "Regional\tDirector")),
             "partners[0].contacts[0].role"),
        Case("newline-in-motives", "a.json", _json(_with(("partners", 0, "motives"), "One.\r\nTwo.\tThree.")), None),
        Case("newline-in-statement", "a.json", _json(_with(("issue", "statement"), "One.\nTwo.")), None),
        Case("esc-in-motives", "a.json", _json(_with(("partners", 0, "motives"), "One.\x1b[31m")), "partners[0].motives"),
        Case("control-in-key", "a.json", _json(_minimal(**{"na\x1bme": "x"})), ANY),
        Case("huge-key", "a.json", _json(_minimal(**{"k" * 100_000: "x"})), ANY),
        Case("over-1-mib", "a.yaml", (base + "local_context: " + "x" * (1 << 20) + "\n").encode(), DOC),
        Case("over-1-mib-comment", "a.yaml", (base + "#" + "x" * (1 << 20) + "\n").encode(), DOC),
        Case("bom", "a.yaml", ("\ufeff" + base).encode(), None),
        Case("crlf", "a.yaml", base.replace("\n", "\r\n").encode(), None),
        Case("not-utf8", "a.yaml", base.encode() + b"\xff\xfe", DOC),
        Case("python-tag", "a.yaml", (base + "vision: !!python/object/apply:os.system [echo owned]\n").encode(), DOC),
        Case("custom-tag", "a.yaml", (base.replace("name: Northern", "name: !x Northern", 1)).encode(), ANY),
        Case("huge-int", "a.yaml", (base.replace("amount: 3", "amount: " + "9" * 5000, 1)).encode(), ANY),
        Case("billion-laughs", "a.yaml", _laughs().encode(), ANY),
        Case("alias-bomb-in-fields", "a.yaml", alias_bomb(1000).encode(), DOC),
        Case("a-few-aliases", "a.yaml", alias_bomb(20).encode(), "partners[1].id"),
        Case("recursive-alias", "a.yaml", (base + "vision: &v {statement: *v}\n").encode(), ANY),
        Case("merge-key", "a.yaml", (base + "vision: {<<: {statement: x}}\n").encode(), ANY),
        Case("non-string-key", "a.yaml", (base + "? [a, b]\n: c\n1: 2\n").encode(), ANY),
        Case("null-key", "a.yaml", (base + "null: x\n").encode(), ANY),
        Case("nan", "a.yaml", base.replace("amount: 3", "amount: .nan", 1).encode(), ANY),
        Case("list-top", "a.yaml", b"- a\n- b\n", DOC),
        Case("scalar-top", "a.yaml", b"just text\n", DOC),
        Case("tabs-indent", "a.yaml", base.replace("  ", "\t").encode(), DOC),
    ]
    return cases


def _nest(levels: int):
    value: object = "x"
    for _ in range(levels):
        value = [value]
    return value


def alias_bomb(n: int) -> str:
    """A partner holding ``n`` aliases of one contact, itself aliased ``n`` times: ``n``² contacts."""
    contacts = "[&c {name: A, email: a@b.example.org}" + ", *c" * (n - 1) + "]"
    return ("schema: isp/v1\nid: alias-bomb\nname: B\ncountry: GH\nmission: M\nstage: convene\n"
            "started: '2026-01-15'\npartners: [&p {id: pa, name: P, sector: public, contacts: "
            + contacts + "}" + ", *p" * (n - 1) + "]\n")


def _laughs() -> str:
    lines = ["schema: isp/v1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


# Values that break the limits anywhere (the field path is where the problem must be).
EVERYWHERE = ["a\x00b", "a\x1bb", "a\x07b", "a\x7fb", "a\x9bb", "\ud800", "x\udfffy", "a\x0bb", "a\x0cb"]
# Values that break the limits in a single-line field only.
SINGLE_LINE = ["a\nb", "a\rb", "a\tb", "a\r\nBcc: victim@evil.example.org"]
BAD_EMAILS = ["a@b.org\n", "a@b.org\r\nBcc: c@d.org", "x,victim@evil.example.org", "a<b>;c@d.org", "a b@c.org",
              "(c)a@b.org", '"q"@b.org', "a@b", "a@@b.org", "a@b..org", ".a@b.org", "a.@b.org", "é@b.org",
              "a@b.org;c@d.org", "a@" + "b" * 260 + ".org", "", " a@b.org", "a@b.org "]
MULTI_LINE_PATHS = [("issue", "statement"), ("local_context",), ("partners", 0, "motives"),
                    ("partners", 0, "goals", 0), ("vision", "statement")]
SINGLE_LINE_PATHS = [("name",), ("mission",), ("mission_director", "name"), ("leaders", 0, "name"),
                     ("partners", 0, "name"), ("partners", 0, "contacts", 0, "role"),
                     ("partners", 0, "commitment", "resources", 0, "unit"), ("initiatives", 0, "name")]
EMAIL_PATHS = [("mission_director", "email"), ("leaders", 0, "email"), ("partners", 0, "contacts", 1, "email")]


def _path_text(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def field_cases(rng: random.Random, count: int) -> list[Case]:
    """A fixture with one field made hostile, as JSON (escapes) or YAML (double-quoted escapes)."""
    base = _fixture()
    out = []
    for i in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            path, value = rng.choice(MULTI_LINE_PATHS + SINGLE_LINE_PATHS), rng.choice(EVERYWHERE)
        elif kind == 1:
            path, value = rng.choice(SINGLE_LINE_PATHS), rng.choice(SINGLE_LINE)
        elif kind == 2:
            path, value = rng.choice(EMAIL_PATHS), rng.choice(BAD_EMAILS)
        else:
            path, value = rng.choice(MULTI_LINE_PATHS), rng.choice(SINGLE_LINE)
        value = _splice(rng, value)
        if not _has(base, path):
            continue
        data = _with(path, value)
        expect = None if kind == 3 else _path_text(path)
        as_json = rng.random() < 0.5
        if as_json:
            out.append(Case(f"field-{i}", f"f{i}.json", _json_ascii(data), expect))
        else:
            out.append(Case(f"field-{i}", f"f{i}.yaml", _json_ascii(data), expect))  # JSON is YAML
    return out


def _has(data, path) -> bool:
    try:
        for part in path:
            data = data[part]
        return True
    except (KeyError, IndexError, TypeError):
        return False


def _splice(rng: random.Random, value: str) -> str:
    """The hostile value alone, or inside ordinary text, or repeated into a long one."""
    choice = rng.randrange(3)
    if choice == 0 or not value:
        return value
    if choice == 1:
        return "Some text " + value + " more"
    return value + "z" * rng.randrange(50, 3000)


HOSTILE_SNIPPETS = ["\x00", "\x1b[31m", "\r", "\t", "\ufeff", "\u2028", "&a ", "*a ", "!!python/name:os.system ",
                    "%YAML 1.1\n", "---\n", "...\n", "{", "[", "]", "}", "'", '"', "\\", ": ", "- ", "? ", "#",
                    "|\n", ">-\n", "<<: ", "!!binary ", "!!set ", "\\ud800", "\udc00", "~", "null", "0x1F", "1e999",
                    "2026-02-30", "9" * 400]


def text_cases(rng: random.Random, count: int) -> list[Case]:
    """Mutations of the fixtures' text; only a clean verdict is expected."""
    texts = [p.read_text("utf-8") for p in sorted(FIXTURES.glob("*.yaml"))]
    out = []
    for i in range(count):
        lines = rng.choice(texts).splitlines(keepends=True)
        for _ in range(rng.randrange(1, 4)):
            lines = _mutate(rng, lines)
        text = "".join(lines)
        out.append(Case(f"text-{i}", f"t{i}.yaml", text.encode("utf-8", "surrogatepass"), ANY))
    return out


def _mutate(rng: random.Random, lines: list[str]) -> list[str]:
    if not lines:
        return [rng.choice(HOSTILE_SNIPPETS)]
    i = rng.randrange(len(lines))
    op = rng.randrange(7)
    if op == 0:
        return lines[:i] + lines[i + 1:]
    if op == 1:
        return lines[:i] + [lines[i]] * rng.randrange(2, 5) + lines[i:]
    if op == 2:
        return lines[:i] + ["  " * rng.randrange(0, 4) + lines[i].lstrip()] + lines[i + 1:]
    if op == 3:
        return lines[:i]
    if op == 4:
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        return lines[:i] + [line[:at] + rng.choice(HOSTILE_SNIPPETS) + line[at:]] + lines[i + 1:]
    if op == 5:
        j = rng.randrange(len(lines))
        lines = list(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return lines
    return lines[:i] + [rng.choice(lines)] + lines[i:]


def corpus(seed: int = 12, fields: int = 500, texts: int = 500) -> list[Case]:
    rng = random.Random(seed)
    return reported_cases() + field_cases(rng, fields) + text_cases(rng, texts)


def write(cases: list[Case], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, case in enumerate(cases):
        suffix = Path(case.filename).suffix
        path = folder / f"{n:04d}-{case.name}{suffix}"
        path.write_bytes(case.data)
        paths.append(path)
    return paths
