import json

import pytest

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)


@pytest.mark.parametrize("command", [["list"], ["review", "--no-prefect", "--format", "json", "--as-of", "2026-11-30"]])
def test_a_mission_filter_matches_whatever_the_case(stocked, command):
    done = stocked.isp(*command, "--mission", "usaid/ghana", *(["--format", "json"] if command == ["list"] else []))
    assert done.returncode == 0, done.stderr
    ids = sorted(json.loads(line)["id" if command == ["list"] else "partnership"] for line in done.stdout.splitlines())
    assert ids == ["gh-mnh-north", "tamale-health"]


@pytest.mark.parametrize("command", [["list"], ["review", "--no-prefect"]])
def test_an_unknown_mission_is_refused_with_exit_2_naming_the_known_ones_and_records_nothing(stocked, command):
    done = stocked.isp(*command, "--mission", "USAID/Nowhere")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-2] == ("isp: --mission: no partnership of mission 'USAID/Nowhere' is stored; "
                                            "known missions: USAID/Ghana, USAID/Kenya")
    assert done.stdout == ""
    assert _count(stocked, "reviews") == 0


def _count(home, table: str) -> int:
    import sqlite3

    with sqlite3.connect(home.path / "isp.db") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_an_empty_filtered_list_says_why_and_how_many_are_stored(stocked):
    done = stocked.isp("list", "--mission", "usaid/kenya", "--stage", "commit")
    assert (done.returncode, done.stdout) == (
        0, "no partnership in stage commit of mission USAID/Kenya (3 stored; `isp list` shows them all)\n")


def test_an_empty_store_still_says_to_import_some(home):
    assert home.isp("list").stdout == "no partnerships (import some with `isp import FILE`)\n"
    assert "no partnerships (import some with `isp import FILE`)" in home.isp("review", "--no-prefect").stdout
