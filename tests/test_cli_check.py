"""`isp check` and `isp rules` behave exactly as docs/spec/cli.md says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from isp_lifecycle.cli import main

from .conftest import FIXTURES, ROOT

GH = str(FIXTURES / "gh-mnh-north.yaml")
KE = str(FIXTURES / "ke-water-kisumu.yaml")
ISP = str(Path(sys.executable).parent / "isp")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out):
    return [json.loads(line) for line in out.splitlines()]


def test_the_examples_give_the_verdicts_their_comments_state(capsys):
    code, out, _ = run(capsys, "check", "--as-of", "2026-11-27", "--format", "json", GH, KE)
    gh, ke = json_lines(out)
    assert code == 1
    assert (gh["partnership"], gh["gate"], gh["passed"]) == ("gh-mnh-north", "implement", True)
    for gate in ("convene", "commit", "implement"):
        code, out, _ = run(capsys, "check", "--as-of", "2026-11-27", "--gate", gate, "--format", "json", GH)
        assert code == 0 and not [f for f in json_lines(out)[0]["findings"] if f["severity"] == "blocking"]
    assert (ke["gate"], ke["passed"]) == ("convene", False)
    blocking = {(f["rule"], f["subject"]) for f in ke["findings"] if f["severity"] == "blocking"}
    assert blocking == {("ISP101", "sectors.private"), ("ISP104", "issue.stakes.private"),
                        ("ISP102", "partners.nyalenda-residents")}


def test_json_output_has_exactly_the_contract_fields_in_order(capsys):
    _, out, _ = run(capsys, "check", "--as-of", "2026-11-27", "--format", "json", KE)
    data = json_lines(out)[0]
    assert list(data) == ["partnership", "gate", "as_of", "passed", "rules", "findings"]
    assert list(data["rules"]) == ["version", "digest"]
    for f in data["findings"]:
        assert list(f) == ["rule", "principle", "severity", "subject", "message", "remediation", "quote"]
    order = [(f["severity"] != "blocking", f["rule"]) for f in data["findings"]]
    assert order == sorted(order)


def test_stdin_is_read_with_a_dash_and_reported_as_dash(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"- not a mapping\n")))
    code, out, err = run(capsys, "check", "--format", "json", "-")
    assert code == 2
    assert json_lines(out) == [{"file": "-", "error": "invalid", "problems": [
        {"path": "(document)", "message": "must be a mapping of fields, found a list"}]}]
    assert err.strip() == "-: (document): must be a mapping of fields, found a list"


def test_every_file_is_processed_in_order_and_two_wins_over_one(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: isp/v1\nid: ab\n")
    code, out, err = run(capsys, "check", "--as-of", "2026-11-27", "--format", "json", KE, str(bad),
                         str(tmp_path / "nope.yaml"), str(tmp_path), GH)
    lines = json_lines(out)
    assert code == 2
    assert [line.get("partnership") or line["error"] for line in lines] == [
        "ke-water-kisumu", "invalid", "unreadable", "unreadable", "gh-mnh-north"]
    assert lines[1]["file"] == str(bad)
    assert {p["path"] for p in lines[1]["problems"]} == {"name", "country", "mission", "stage", "started"}
    assert all(line.startswith(f"{bad}: ") for line in err.splitlines() if str(bad) in line)


def test_a_closed_document_has_no_gate_unless_one_is_given(capsys, tmp_path):
    closed = tmp_path / "closed.yaml"
    closed.write_text(Path(GH).read_text().replace("stage: implement", "stage: closed"))
    code, out, _ = run(capsys, "check", "--format", "json", str(closed))
    assert code == 2
    (line,) = json_lines(out)
    assert line["error"] == "no-gate" and [p["path"] for p in line["problems"]] == ["stage"]
    code, out, _ = run(capsys, "check", "--gate", "convene", "--as-of", "2026-11-27", "--format", "json", str(closed))
    assert code == 0 and json_lines(out)[0]["gate"] == "convene"


def test_text_output_groups_by_severity_and_shows_the_principle_without_colour_off_a_terminal(capsys):
    code, out, _ = run(capsys, "check", "--as-of", "2026-11-27", KE)
    assert code == 1
    assert "\x1b[" not in out
    assert out.index("Blocking:") < out.index("Advisory:")
    assert "[convene-stakeholders] sectors.private" in out
    assert "What to do:" in out and "Handbook:" in out


def test_both_engines_give_the_same_verdicts(capsys):
    _, durable, _ = run(capsys, "check", "--as-of", "2026-11-27", "--format", "json", GH, KE)
    _, python, _ = run(capsys, "check", "--as-of", "2026-11-27", "--format", "json", "--engine", "python", GH, KE)
    assert durable == python


@pytest.mark.parametrize("args", [["--as-of", "2026-02-30"], ["--as-of", "yesterday"], ["--gate", "launch"]])
def test_bad_usage_exits_2_naming_the_value(capsys, args):
    code, _, err = run(capsys, "check", *args, GH)
    assert code == 2
    assert args[1] in err


def test_rules_list_and_explain_show_the_pack(capsys):
    code, out, _ = run(capsys, "rules", "list", "--format", "json")
    rows = json_lines(out)
    assert code == 0 and len(rows) == 34 and rows[0]["id"] == "ISP101"
    code, out, _ = run(capsys, "rules", "explain", "ISP110")
    assert code == 0
    assert "organizations-not-individuals" in out and "blocking from the implement gate" in out
    assert "There must be broad-based support to ensure sustainability." in out
    code, _, err = run(capsys, "rules", "explain", "ISP999")
    assert code == 2 and err.count("\n") == 1


@pytest.mark.slow
def test_the_installed_command_never_shows_a_traceback_for_user_mistakes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: isp/v1\nid: [1\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for args, code in (([str(bad)], 2), ([str(tmp_path / "missing.yaml")], 2), (["--as-of", "x", GH], 2),
                       (["--as-of", "2026-11-27", KE], 1), (["--as-of", "2026-11-27", GH], 0)):
        out = subprocess.run([ISP, "check", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        assert out.returncode == code, (args, out.stderr)
        assert "Traceback" not in out.stderr


def after_a_check_in_a_fresh_python(expression: str) -> str:
    """Run ``isp check`` through ``main()`` in a new interpreter; what ``expression`` prints after it."""
    script = ("import gc, sys\nfrom isp_lifecycle.cli import main\n"
              f"main(['check', '--as-of', '2026-11-27', {GH!r}])\n"
              f"print({expression})\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_check_path_imports_neither_prefect_nor_sqlalchemy():
    assert after_a_check_in_a_fresh_python(
        "sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'sqlalchemy', 'jinja2', 'alembic'))"
    ) == "[]"


def test_the_check_path_reads_no_settings_and_opens_no_store():
    # the settings are read once by the commands that need them; `isp check` needs none
    assert after_a_check_in_a_fresh_python(
        "sorted(m for m in sys.modules if m in ('isp_lifecycle.settings', 'isp_lifecycle.store', 'isp_lifecycle.uow'))"
    ) == "[]"


def test_the_check_path_does_not_load_importlib_metadata_for_pydantic_plugins():
    # pydantic's plugin lookup would import importlib.metadata (some 40 modules) at the first model build
    assert after_a_check_in_a_fresh_python(
        "sorted(m for m in sys.modules if m.startswith(('importlib.metadata', 'importlib.resources')))"
    ) == "[]"


def test_pydantic_keeps_its_own_plugin_loader_once_it_has_loaded_it():
    script = ("import pydantic.plugin._loader as real\n"
              "from isp_lifecycle._startup import without_pydantic_plugins\n"
              "import sys\n"
              "print(without_pydantic_plugins(), sys.modules['pydantic.plugin._loader'] is real)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr


@pytest.mark.slow
def test_the_installed_command_writes_every_verdict_through_a_pipe_before_it_exits(tmp_path):
    # isp check ends with os._exit once its output is flushed: nothing may be lost on the way
    files = [GH, KE] * 40
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([ISP, "check", "--as-of", "2026-11-27", "--format", "json", *files],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 1, out.stderr
    verdicts = json_lines(out.stdout.decode())
    assert [v["partnership"] for v in verdicts] == ["gh-mnh-north", "ke-water-kisumu"] * 40
    text = subprocess.run([ISP, "rules", "list"], stdout=subprocess.PIPE, env=env, cwd=ROOT, timeout=60)
    assert text.returncode == 0 and text.stdout.decode().count("ISP") >= 34


@pytest.mark.slow
def test_a_reader_that_stops_early_gets_no_traceback_from_isp_check(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.Popen([ISP, "check", "--as-of", "2026-11-27", *([GH] * 200)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) != 0
    assert "Traceback" not in err and "Exception ignored" not in err


def test_calling_the_cli_inside_another_process_leaves_its_garbage_collector_as_it_was():
    assert after_a_check_in_a_fresh_python("gc.isenabled(), gc.get_freeze_count()").split() == ["True", "0"]
