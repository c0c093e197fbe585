"""``isp check``: documents in, verdicts out, no store and no workflow server.

The output contract is frozen in ``docs/spec/cli.md``. This module imports only
what the check path needs (click, the YAML reader, pydantic models, the rules engine).
"""

import sys
from datetime import date, datetime, timezone

import click

from .._startup import without_pydantic_plugins
from ..encoding import json_text, terminal
from .options import parse_as_of

without_pydantic_plugins()
from ..facts import GATES  # noqa: E402  (builds the document models)

_COLOUR = {"blocking": "red", "advisory": "yellow"}


def _text_verdict(verdict, colour: bool) -> str:
    def style(text, **kw):
        return click.style(text, **kw) if colour else text

    blocking = [f for f in verdict.findings if f.severity == "blocking"]
    advisory = [f for f in verdict.findings if f.severity == "advisory"]
    outcome = style("PASSED", fg="green", bold=True) if verdict.passed else style("BLOCKED", fg="red", bold=True)
    lines = [
        f"{style(terminal(verdict.partnership), bold=True)} ({terminal(verdict.name)}): {verdict.gate} gate as of {verdict.as_of.isoformat()}: "
        f"{outcome} ({len(blocking)} blocking, {len(advisory)} advisory)"
    ]
    for severity, group in (("blocking", blocking), ("advisory", advisory)):
        if not group:
            continue
        lines.append(style(f"  {severity.capitalize()}:", fg=_COLOUR[severity], bold=True))
        for f in group:
            lines.append(f"    {style(f.rule, fg=_COLOUR[severity])} [{f.principle}] {terminal(f.subject)}")
            lines.append(f"      {terminal(f.message)}")
            lines.append(f"      What to do: {f.remediation}")
            lines.append(style(f"      Handbook: \u201c{f.quote}\u201d", dim=True))
    lines.append(style(f"  rules {verdict.rules_version} {verdict.rules_digest[:19]}\u2026", dim=True))
    return "\n".join(lines)


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--gate", type=click.Choice(GATES), help="Gate to check. Default: the gate of the document's current stage.")
@click.option("--as-of", "as_of", callback=parse_as_of, metavar="DATE",
              help="Check as of this date (YYYY-MM-DD). Default: today (UTC).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json: one object per document per line.")
@click.option("--engine", type=click.Choice(["durable", "python"]), default="durable", show_default=True,
              help="Rules engine: durable_rules (reference) or the compiled-Python evaluator (same findings).")
@click.pass_context
def check(ctx, files, gate, as_of, fmt, engine):
    """Check partnership documents against a stage gate, without touching any store.

    FILE is an isp/v1 document (.yaml, .yml or .json); '-' reads one from standard input.
    Every file is checked even when an earlier one fails.

    \b
    Exit status: 0 every document passes; 1 a gate failed (blocking findings);
                 2 a document is invalid or unreadable, or bad usage (2 wins over 1).

    \b
    Examples:
      isp check partnership.yaml
      isp check --gate commit --as-of 2026-06-30 *.yaml
      cat p.json | isp check --format json -
    """
    from ..document import loads, read_stream, read_text
    from ..errors import InvalidDocument, Problem, UnreadableDocument
    from ..gates import GATE_OF_STAGE, GateChecker

    checker = None
    colour = fmt == "text" and sys.stdout.isatty()
    status = 0
    for i, name in enumerate(files):
        text = None
        try:
            text = read_stream(sys.stdin.buffer) if name == "-" else read_text(name)
            doc = loads(text, name, json_only=name.endswith(".json"))
        except UnreadableDocument as exc:
            status = 2
            _problem(name, "unreadable", exc.problems, None, fmt)
            continue
        except InvalidDocument as exc:
            status = 2
            _problem(name, "invalid", exc.problems, text, fmt)
            continue
        target = gate or GATE_OF_STAGE.get(doc.stage)
        if target is None:
            status = 2
            _problem(name, "no-gate", [Problem("stage", f"the partnership is {doc.stage}: it has no gate to check; "
                                               "choose one with --gate")], text, fmt)
            continue
        if checker is None:
            checker = GateChecker(engine)
        verdict = checker.evaluate(doc, target, as_of)
        if not verdict.passed and status == 0:
            status = 1
        if fmt == "json":
            click.echo(json_text(verdict.to_json()))
        else:
            if i:
                click.echo()
            click.echo(_text_verdict(verdict, colour))
    ctx.exit(status)


def _problem(name: str, error: str, problems: list, text: str | None, fmt: str) -> None:
    """One line per problem on standard error, ``FILE:LINE:COLUMN:`` first when the text says
    where its path is (terminal-safe: paths and messages may carry a document's text), and the
    JSON object on standard output with ``--format json`` (``line`` and ``column`` beside
    ``path`` and ``message`` when known)."""
    from ..locations import located, problem_line

    places = located(text, problems)
    for problem, place in places:
        click.echo(terminal(problem_line(name, problem, place)), err=True)
    if fmt == "json":
        click.echo(json_text({"file": name, "error": error, "problems": [
            {**problem.as_json(), **({"line": place[0], "column": place[1]} if place else {})}
            for problem, place in places]}))
