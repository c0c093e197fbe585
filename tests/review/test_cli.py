"""``isp review`` as docs/spec/cli.md freezes it: JSON lines ordered by id, exit 0/1/2, idempotent."""

import json
import sys

import pytest

from isp_lifecycle.cli import main

from .conftest import dump, fail_on, outbox
from .test_review import load_portfolio


def review_json(capsys, *args):
    capsys.readouterr()
    code = main(["review", "--as-of", "2027-09-01", "--format", "json", *args])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_json_output_is_one_object_per_partnership_ordered_by_id_with_alerts_ordered_by_name(store, capsys):
    load_portfolio(store)
    code, lines, _ = review_json(capsys, "--no-prefect")
    assert code == 0
    ids = [line["partnership"] for line in lines]
    assert ids == sorted(ids) and "gh-closed" not in ids and len(ids) == 6
    for line in lines:
        assert list(line) == ["partnership", "stage", "gate", "as_of", "passed", "findings", "alerts"]
        assert [a["alert"] for a in line["alerts"]] == sorted(a["alert"] for a in line["alerts"])
        assert all(set(a) == {"alert", "subject", "message"} for a in line["alerts"])
    kisumu = next(line for line in lines if line["partnership"] == "ke-water-kisumu")
    assert kisumu["alerts"][0]["alert"] == "stage-overdue" and kisumu["findings"][0]["severity"] == "blocking"


def test_running_the_same_review_again_prints_the_same_and_changes_nothing(store, capsys):
    load_portfolio(store)
    _, first, _ = review_json(capsys, "--no-prefect")
    before = dump(store)
    code, again, _ = review_json(capsys, "--no-prefect")
    assert code == 0 and again == first and dump(store) == before


def test_an_interrupted_review_exits_1_and_the_same_command_completes_it(store, capsys, monkeypatch):
    load_portfolio(store)
    repair = fail_on(monkeypatch, "ke-fresh", TimeoutError("the database stopped answering"))
    code, lines, err = review_json(capsys, "--no-prefect", "--chunk-size", "2")
    assert code == 1
    assert "incomplete" in err and "run the same command again" in err and "Traceback" not in err
    assert 0 < len(lines) < 6  # what finished is kept and shown
    repair()
    code, lines, _ = review_json(capsys, "--no-prefect", "--chunk-size", "2")
    assert code == 0 and len(lines) == 6
    keys = [key for _, _, key in outbox(store)]
    assert len(keys) == len(set(keys))
    assert len(outbox(store, "review-digest")) == 2


def test_text_output_names_each_partnership_and_sums_up(store, capsys):
    load_portfolio(store)
    capsys.readouterr()
    assert main(["review", "--as-of", "2027-09-01", "--no-prefect"]) == 0
    out, err = capsys.readouterr()
    assert "ke-water-kisumu  convene, 365 days; convene gate: not ready" in out
    assert "    stage-overdue stage: " in out  # nothing is called new without an earlier review
    assert "6 partnerships, " in out.splitlines()[-1]
    assert "chunk 0: 6 partnerships" in err  # progress, on stderr, when stderr is not a terminal


def test_on_a_terminal_a_bar_counts_the_chunks_on_stderr_instead_of_their_log_lines(store, capsys, monkeypatch):
    load_portfolio(store)
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["review", "--as-of", "2027-09-01", "--no-prefect", "--chunk-size", "2"]) == 0
    out, err = capsys.readouterr()
    assert "reviewing" in err and "3/3" in err and "2 partnerships" in err, err
    assert "chunk 0" not in err, err
    assert "6 partnerships, " in out.splitlines()[-1]


@pytest.mark.parametrize("args", [["--as-of", "2027-02-30"], ["--format", "xml"], ["--chunk-size", "501"]])
def test_bad_usage_exits_2(store, capsys, args):
    assert main(["review", "--no-prefect", *args]) == 2


def test_an_unusable_store_exits_2_without_starting_prefect(env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ISP_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/isp.db")
    had_prefect = "prefect" in sys.modules
    assert main(["review", "--as-of", "2027-09-01"]) == 2
    assert "cannot" in capsys.readouterr().err
    assert had_prefect or "prefect" not in sys.modules


def test_a_bad_reminder_period_is_bad_usage(store, capsys, monkeypatch):
    monkeypatch.setenv("ISP_REMIND_DAYS", "a week")
    assert main(["review", "--no-prefect"]) == 2
    assert "ISP_REMIND_DAYS" in capsys.readouterr().err


def test_an_empty_store_is_reviewed_in_no_time_and_exits_0(store, capsys):
    code, lines, _ = review_json(capsys, "--no-prefect")
    assert code == 0 and lines == []


def test_the_review_messages_render_and_deliver_through_the_shipped_templates(store, capsys, env):
    load_portfolio(store)
    assert main(["review", "--as-of", "2027-09-01", "--no-prefect"]) == 0
    capsys.readouterr()
    assert main(["notifications", "deliver"]) == 0, capsys.readouterr().err
    mails = sorted((env / "home" / "outbox").glob("*.eml"))
    texts = [m.read_text(encoding="utf-8") for m in mails]
    assert len(mails) == len(outbox(store)) == 7 + 2
    assert any("USAID/Ghana portfolio review" in t for t in texts)
    assert any("health alert" in t and "Kisumu Peri-Urban Water Partnership" in t for t in texts)
