"""One document written in the YAML styles editors and tools write gives the same verdict as
the plain file: document markers, a ``%YAML 1.2`` directive, comments, flow and block
styles, anchors and aliases, quoting and folding styles, indentation, CRLF, a BOM, JSON."""

from __future__ import annotations

import io
import json

import pytest

from isp_lifecycle.document import loads, read_yaml

from .corpus import FIXTURES
from .run import isp

PLAIN = (FIXTURES / "gh-mnh-north.yaml").read_text("utf-8")


def _dump(data, **options) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.width = 4096
    yaml.allow_unicode = True
    indent = options.pop("indent", None)
    for key, value in options.items():
        setattr(yaml, key, value)
    if indent:
        yaml.indent(**indent)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _commented(text: str) -> str:
    lines = ["# a partnership, with comments everywhere", ""]
    for line in text.splitlines():
        if line.strip() and not line.rstrip().endswith(("|", ">", "|-", ">-")) and ": " in line and "#" not in line:
            line += "  # a trailing comment"
        lines += [line, "   # a comment line, indented"]
    return "\n".join(lines) + "\n"


def _anchored(text: str) -> str:
    """The repeated name written once with an anchor, then as aliases."""
    first = text.index("Ama Mensah")
    head, tail = text[:first], text[first + len("Ama Mensah"):]
    return head + "&ama Ama Mensah" + tail.replace("Ama Mensah,", "*ama ,").replace("Ama Mensah\n", "*ama\n")


def _folded(data) -> str:
    """Block scalars: the issue statement literal (``|-``) and the local context folded (``>-``)."""
    text = _dump(data, default_flow_style=False)
    statement, context = data["issue"]["statement"], data["local_context"]
    text = text.replace(f"  statement: {statement}\n", f"  statement: |-\n    {statement}\n")
    words = context.split(" ")
    half = len(words) // 2
    folded = "local_context: >-\n  " + " ".join(words[:half]) + "\n  " + " ".join(words[half:]) + "\n"
    return text.replace(f"local_context: {context}\n", folded)


def styles() -> dict[str, str]:
    data = read_yaml(PLAIN)
    block = _dump(data, default_flow_style=False)
    return {
        "plain.yaml": PLAIN,
        "markers.yaml": "---\n" + PLAIN + "...\n",
        "directive.yaml": "%YAML 1.2\n---\n" + PLAIN,
        "comments.yaml": _commented(PLAIN),
        "block.yaml": block,
        "flow.yaml": _dump(data, default_flow_style=True),
        "double-quoted.yaml": _dump(data, default_flow_style=False, default_style='"'),
        "single-quoted.yaml": _dump(data, default_flow_style=False, default_style="'"),
        "anchors.yaml": _anchored(PLAIN),
        "block-scalars.yaml": _folded(data),
        "wide-indent.yaml": _dump(data, default_flow_style=False, indent={"mapping": 4, "sequence": 6, "offset": 4}),
        "crlf.yaml": PLAIN.replace("\n", "\r\n"),
        "bom.yaml": "\ufeff" + PLAIN,
        "json-as-yaml.yaml": json.dumps(data, indent=1),
        "document.json": "\ufeff" + json.dumps(data, ensure_ascii=False),
    }


def test_every_style_reads_as_the_same_document():
    plain = loads(PLAIN).to_data()
    for name, text in styles().items():
        assert loads(text, name, json_only=name.endswith(".json")).to_data() == plain, name


def test_the_styles_are_really_different_texts():
    texts = list(styles().values())
    assert len(set(texts)) == len(texts) >= 8


@pytest.mark.slow
def test_isp_check_gives_every_style_the_verdict_of_the_plain_file(tmp_path):
    files = []
    for name, text in styles().items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        files.append(path)
    ran = isp(["check", "--format", "json", "--as-of", "2026-11-27", *map(str, files)])
    verdicts = [json.loads(line) for line in ran.stdout.splitlines()]
    assert len(verdicts) == len(files) and "error" not in verdicts[0]
    assert all(v == verdicts[0] for v in verdicts), [f.name for f, v in zip(files, verdicts) if v != verdicts[0]]
    assert ran.status == (0 if verdicts[0]["passed"] else 1)
