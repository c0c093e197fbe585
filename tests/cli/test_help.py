"""The help teaches: every command has an example and help on every option, the partnership
argument has one name, a mistyped command gets a suggestion, and a bad date one wording."""

import click
import pytest

from isp_lifecycle.cli import COMMANDS, cli, main


def _commands():
    ctx = click.Context(cli, info_name="isp")
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        yield f"isp {name}", command
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                yield f"isp {name} {sub}", command.commands[sub]


ALL = list(_commands())


@pytest.mark.parametrize("path,command", ALL, ids=[p for p, _ in ALL])
def test_every_command_shows_an_example_in_its_help(path, command):
    assert "Example:" in (command.help or ""), path
    if not isinstance(command, click.Group):
        examples = command.help.split("Example:", 1)[1]
        assert path in examples, f"{path}: the example runs another command"


@pytest.mark.parametrize("path,command", ALL, ids=[p for p, _ in ALL])
def test_every_option_has_help(path, command):
    bare = [p.opts[0] for p in command.params if isinstance(p, click.Option) and not p.help]
    assert bare == [], f"{path}: options without help"


def test_the_partnership_argument_has_one_name_everywhere():
    shown = {(path, p.opts[0]): p.metavar if isinstance(p, click.Option) else p.human_readable_name
             for path, command in ALL for p in command.params if p.name == "partnership_id"}
    assert {path for path, _ in shown} >= {"isp advance", "isp approve", "isp export", "isp history", "isp show",
                                           "isp notifications list"}
    assert set(shown.values()) == {"PARTNERSHIP_ID"}, shown


@pytest.mark.parametrize("argv,suggestion", [(["lst"], "list"), (["notifications", "delivr"], "deliver"),
                                             (["audti"], "audit")])
def test_a_mistyped_command_gets_a_did_you_mean_at_every_level(capsys, argv, suggestion):
    assert main(argv) == 2
    assert f"did you mean '{suggestion}'?" in capsys.readouterr().err.lower()


BAD_DATE = "'2026-02-30' is not a date written YYYY-MM-DD (e.g. 2026-11-27)"


@pytest.mark.parametrize("argv", [["check", "--as-of", "2026-02-30", "x.yaml"],
                                  ["advance", "some-id", "--as-of", "2026-02-30"],
                                  ["review", "--as-of", "2026-02-30"],
                                  ["report", "--as-of", "2026-02-30"]])
def test_a_bad_date_is_refused_with_one_wording_in_every_command(capsys, argv, tmp_path, monkeypatch):
    monkeypatch.setenv("ISP_HOME", str(tmp_path))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert BAD_DATE in err and "Traceback" not in err
