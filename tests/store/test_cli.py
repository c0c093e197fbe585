import json
import subprocess
import sys
from pathlib import Path

import pytest

from isp_lifecycle.cli import main

from .conftest import FIXTURES, dump, without_audit

GH = str(FIXTURES / "gh-mnh-north.yaml")
KE = str(FIXTURES / "ke-water-kisumu.yaml")


def isp(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_then_export_then_import_again_says_nothing_changed(store, capsys, tmp_path):
    assert isp(capsys, "import", GH, KE)[0] == 0
    code, out, _ = isp(capsys, "export", "gh-mnh-north")
    assert code == 0
    exported = tmp_path / "exported.yaml"
    exported.write_text(out)
    before = dump(store)
    code, out, _ = isp(capsys, "import", str(exported))
    assert (code, out) == (0, "gh-mnh-north: nothing changed (version 1)\n")
    assert dump(store) == before


def test_an_invalid_document_prints_one_line_per_problem_exits_2_and_writes_nothing(store, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(GH).read_text().replace("country: GH", "country: UK").replace("sector: private", "sector: business"))
    before = dump(store)
    code, out, err = isp(capsys, "import", str(bad))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    text = bad.read_text().splitlines()
    country = text.index("country: UK") + 1
    sector = next(i for i, line in enumerate(text, 1) if line.strip() == "sector: business")
    column = text[sector - 1].index("sector") + 1
    assert lines[0].startswith(f"{bad}:{country}:1: country: ")
    assert lines[1].startswith(f"{bad}:{sector}:{column}: partners[") and ".sector: must be one of" in lines[1]
    assert dump(store) == before


def test_a_refused_import_exits_1_with_one_line(store, capsys, tmp_path):
    isp(capsys, "import", GH)
    moved = tmp_path / "moved.yaml"
    moved.write_text(Path(GH).read_text().replace("stage: implement", "stage: review"))
    before = dump(store)
    code, _, err = isp(capsys, "import", str(moved))
    assert code == 1
    assert len(err.splitlines()) == 1 and "may not change stage" in err
    assert without_audit(dump(store)) == without_audit(before)


@pytest.mark.parametrize("command", [["show", "nope"], ["history", "nope"], ["export", "nope"]])
def test_an_unknown_id_exits_2_with_one_line_and_writes_nothing(store, capsys, command):
    isp(capsys, "import", GH)
    before = dump(store)
    code, out, err = isp(capsys, *command)
    assert (code, out) == (2, "")
    assert err == "isp: no partnership 'nope' in the store (see `isp list`)\n"
    assert dump(store) == before


def test_list_show_and_history_describe_the_store(store, capsys):
    isp(capsys, "import", GH, KE)
    code, out, _ = isp(capsys, "list", "--format", "json", "--mission", "USAID/Ghana")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["gh-mnh-north"]
    code, out, _ = isp(capsys, "list", "--stage", "convene")
    assert code == 0 and "ke-water-kisumu" in out and "gh-mnh-north" not in out
    code, out, _ = isp(capsys, "show", "gh-mnh-north")
    assert code == 0 and "stage: implement since 2026-07-01" in out
    code, out, _ = isp(capsys, "history", "gh-mnh-north")
    assert code == 0 and "version 1 (import)" in out


def test_audit_verify_exits_1_naming_the_tampered_entry(store, capsys):
    from sqlalchemy import update

    from isp_lifecycle.store.models import AuditEntry

    isp(capsys, "import", GH, KE)
    assert isp(capsys, "audit", "verify")[:2] == (
        0, "audit chain intact: 2 entries verified; 2 partnerships agree with it\n")
    with store.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="import-edited"))
    code, _, err = isp(capsys, "audit", "verify")
    assert code == 1 and "audit entry 2" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_the_installed_isp_command_reports_an_unknown_id_without_a_traceback(store):
    isp_command = Path(sys.executable).parent / "isp"
    result = subprocess.run([str(isp_command), "show", "nope"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["isp: no partnership 'nope' in the store (see `isp list`)"]
    assert "Traceback" not in result.stderr


def test_each_file_is_imported_on_its_own_and_the_worst_exit_status_wins(store, capsys, tmp_path):
    missing = tmp_path / "missing.yaml"
    code, out, err = isp(capsys, "import", str(missing), GH)
    assert code == 2
    assert err == f"{missing}: (document): no such file\n"
    assert out == "gh-mnh-north: imported as version 1\n"


def test_the_cli_and_its_store_commands_import_no_database_code_until_one_runs():
    probe = (
        "import sys, isp_lifecycle.cli, isp_lifecycle.cli.store; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_export_of_an_earlier_version_gives_that_version(store, capsys, tmp_path):
    isp(capsys, "import", GH)
    changed = tmp_path / "changed.yaml"
    changed.write_text(Path(GH).read_text().replace("local_context: Long", "local_context: Very long"))
    assert isp(capsys, "import", str(changed))[1] == "gh-mnh-north: new version 2\n"
    assert "local_context: Long" in isp(capsys, "export", "gh-mnh-north", "--version", "1")[1]
    assert "local_context: Very long" in isp(capsys, "export", "gh-mnh-north")[1]
