"""`isp import` of many files: each invalid or refused file on its own line, FILE:LINE:COLUMN: where
the text says where, the valid ones imported, the exit status of cli.md, the record intact; a
progress bar on a terminal only."""

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from isp_lifecycle.cli.progress import SHOWN_FROM

from .conftest import GH, KE, TAMALE

pytestmark = pytest.mark.slow  # each test runs `isp` in processes of its own, as the other CLI suites


def line_of(path: Path, fragment: str) -> tuple[int, int]:
    """Where ``fragment`` starts in ``path``'s text: 1-based line and column."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if fragment in line:
            return number, line.index(fragment) + 1
    raise AssertionError(f"{fragment!r} not in {path}")


def bad_yaml(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(KE).read_text().replace("country: KE", "country: UK"))
    return bad


def bad_json(tmp_path: Path, home) -> Path:
    data = json.loads(home.isp_python(
        f"import json; from isp_lifecycle.document import load; print(json.dumps(load({GH!r}).to_data()))").stdout)
    data["partners"][1]["sector"] = "business"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, indent=2))
    return bad


def test_each_invalid_file_gets_its_own_located_lines_and_the_valid_ones_come_in(home, tmp_path):
    yaml_file, json_file, missing = bad_yaml(tmp_path), bad_json(tmp_path, home), tmp_path / "missing.yaml"
    done = home.isp("import", str(yaml_file), GH, str(json_file), str(missing), TAMALE)
    assert done.returncode == 2
    country, sector = line_of(yaml_file, "country: UK"), line_of(json_file, '"sector": "business"')
    assert done.stderr.splitlines()[:-1] == [
        f"{yaml_file}:{country[0]}:{country[1]}: country: 'UK' is not an assigned ISO 3166-1 alpha-2 country code "
        "(the United Kingdom is GB)",
        f"{json_file}:{sector[0]}:{sector[1]}: partners[1].sector: must be one of public, private, civil_society",
        f"{missing}: (document): no such file",
    ]
    assert done.stdout.splitlines() == ["gh-mnh-north: imported as version 1", "tamale-health: imported as version 1"]
    verified = home.isp("audit", "verify")
    assert verified.returncode == 0 and "2 entries verified; 2 partnerships" in verified.stdout  # invalid files write nothing


def test_a_refused_file_among_others_names_isp_export_and_exits_1(home, tmp_path):
    assert home.isp("import", GH).returncode == 0
    moved = tmp_path / "moved.yaml"
    moved.write_text(Path(GH).read_text().replace("stage: implement", "stage: review"))
    done = home.isp("import", KE, str(moved), TAMALE)
    assert done.returncode == 1
    (refusal,) = done.stderr.splitlines()[:-1]
    assert refusal.startswith(f"isp: {moved}: gh-mnh-north: an import may not change stage")
    assert refusal.endswith("`isp export gh-mnh-north`")
    assert done.stdout.splitlines() == ["ke-water-kisumu: imported as version 1", "tamale-health: imported as version 1"]
    assert home.isp("audit", "verify").returncode == 0


def test_an_invalid_file_wins_over_a_refused_one(home, tmp_path):
    assert home.isp("import", GH).returncode == 0
    moved = tmp_path / "moved.yaml"
    moved.write_text(Path(GH).read_text().replace("stage: implement", "stage: review"))
    assert home.isp("import", str(moved), str(bad_yaml(tmp_path))).returncode == 2


def test_isp_check_json_keeps_path_and_message_and_adds_line_and_column(home, tmp_path):
    yaml_file = bad_yaml(tmp_path)
    done = home.isp("check", "--format", "json", str(yaml_file))
    (problem,) = json.loads(done.stdout)["problems"]
    assert problem["path"] == "country" and problem["message"].startswith("'UK' is not an assigned")
    assert (problem["line"], problem["column"]) == line_of(yaml_file, "country: UK")
    assert done.stderr.splitlines()[0].startswith(f"{yaml_file}:{problem['line']}:{problem['column']}: country: ")


def many(tmp_path: Path, count: int) -> list[str]:
    """``count`` valid documents, each its own partnership."""
    text = Path(TAMALE).read_text()
    files = []
    for i in range(count):
        path = tmp_path / f"p{i:04d}.yaml"
        path.write_text(text.replace("id: tamale-health", f"id: tamale-health-{i:04d}"))
        files.append(str(path))
    return files


def test_a_bar_shows_on_a_terminal_for_many_files_and_nothing_when_piped(home, tmp_path):
    files = many(tmp_path, SHOWN_FROM + 1)
    assert "id: tamale-health-0000" in Path(files[0]).read_text()
    piped = home.isp("import", *files[:-1])
    assert piped.returncode == 0 and piped.stderr.splitlines()[:-1] == []
    assert len(piped.stdout.splitlines()) == SHOWN_FROM
    status, seen = on_a_terminal(home, ["import", *files])
    assert status == 0
    assert "importing" in seen and f"{SHOWN_FROM + 1}/{SHOWN_FROM + 1}" in seen
    assert "1 imported, 300 unchanged" in seen and ": imported as version 1" not in seen


def on_a_terminal(home, args: list[str]) -> tuple[int, str]:
    """Run ``isp ARGS`` with standard output and error on a pseudo-terminal: its status and all it wrote."""
    main, child = pty.openpty()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("isp")), *args], env=home.env,
                            stdin=subprocess.DEVNULL, stdout=child, stderr=child)
    os.close(child)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("isp import wrote nothing for 120 s")
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end closed: the command is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return proc.wait(timeout=60), seen.decode("utf-8", "replace")
