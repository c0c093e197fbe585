"""What every ``isp`` command shares in how it reads its command line: one wording for a bad
date, a "did you mean" for a mistyped sub-command at every level, and the example each
command's help ends with (kept here, in one table beside ``COMMANDS``, so that a command
without one is seen at a glance and a test can require them all)."""

from __future__ import annotations

import inspect
from datetime import date, datetime, timezone

import click

EXAMPLES = {
    "advance": "isp advance gh-mnh-north --as ama@ghs.example.org",
    "approve": "isp approve gh-mnh-north --as kboateng@mission.example.org --note 'reviewed with the team'",
    "audit": "isp audit verify",
    "audit checkpoint": "isp audit checkpoint",
    "audit verify": "isp audit verify",
    "check": "isp check --as-of 2026-11-27 partnership.yaml",
    "db": "isp db upgrade",
    "db upgrade": "isp db upgrade",
    "demo": "isp demo",
    "export": "isp export gh-mnh-north > gh-mnh-north.yaml",
    "history": "isp history gh-mnh-north",
    "import": "isp import portfolio/*.yaml",
    "lessons": "isp lessons --mission usaid/ghana --principle share-information --format json",
    "list": "isp list --stage convene --mission usaid/ghana",
    "login": "isp login https://isp.example.org",
    "notifications": "isp notifications list --status failed",
    "notifications check-templates": "isp notifications check-templates ./my-templates",
    "notifications deliver": "isp notifications deliver",
    "notifications list": "isp notifications list --status failed",
    "notifications retry": "isp notifications retry 12 13",
    "pending": "isp pending --mission usaid/ghana",
    "report": "isp report --as-of 2026-11-27 --out review.html",
    "review": "isp review --as-of 2026-11-27 --mission usaid/ghana",
    "rules": "isp rules explain ISP101",
    "rules explain": "isp rules explain ISP101",
    "rules list": "isp rules list --format json",
    "serve": "isp serve --web-port 8420",
    "show": "isp show gh-mnh-north",
    "token": "isp token create kboateng@mission.example.org",
    "token create": "isp token create kboateng@mission.example.org",
    "token list": "isp token list",
    "token revoke": "isp token revoke 3",
    "web": "isp web --port 8420 --workers 2",
}


def with_example(command: click.Command, path: str) -> click.Command:
    """Append the command's example (and its sub-commands') to its help, once."""
    example = EXAMPLES.get(path)
    if example and "Example:" not in (command.help or ""):
        # Cleaned first: click dedents a docstring when it shows it, which an unindented example
        # line appended to it would prevent.
        command.help = f"{inspect.cleandoc(command.help or '')}\n\n\b\nExample:\n  {example}"
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            with_example(sub, f"{path} {name}")
    return command


class SuggestingGroup(click.Group):
    """A group that answers a mistyped sub-command with the closest ones it knows."""

    def resolve_command(self, ctx, args):
        name = click.utils.make_str(args[0]) if args else None
        if name is not None and self.get_command(ctx, name) is None and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)


def parse_date(ctx, param, value):
    """A ``YYYY-MM-DD`` option, refused in one wording by every command (``None`` when absent)."""
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD (e.g. 2026-11-27)") from None


def parse_as_of(ctx, param, value):
    """Like ``parse_date``; absent, today (UTC)."""
    parsed = parse_date(ctx, param, value)
    return parsed if parsed is not None else datetime.now(timezone.utc).date()


def _show_prefect(ctx, param, value: bool) -> bool:
    if value:
        from isp_lifecycle.flows._prefect import show_output

        show_output()
    return value


# ``-v`` on the commands that may run a Prefect flow (advance, approve, review).
VERBOSE = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_show_prefect, is_eager=True,
                       help="Show Prefect's own output too (server start-up, flow-run lines).")

