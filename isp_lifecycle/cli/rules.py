"""``isp rules list|explain``: the rule pack, readable."""

import json
import textwrap

import click

from .options import SuggestingGroup

from ..facts import GATES


@click.group(cls=SuggestingGroup)
def rules():
    """Show the rule pack: which handbook conditions each gate checks."""


@rules.command("list")
@click.option("--gate", type=click.Choice(GATES), help="Only the rules checked when leaving this gate (cumulative).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
def list_rules(gate, fmt):
    """List every rule: id, gate, severity, principle and title."""
    from ..rulepack import load_pack

    pack = load_pack()
    chosen = pack.for_gate(gate) if gate else [r for r in pack.rules if not r.deprecated]
    if fmt == "json":
        for r in chosen:
            click.echo(json.dumps({"id": r.id, "gate": r.gate, "severity": r.severity_at(gate or r.gate),
                                   "principle": r.principle, "title": r.title}))
        return
    click.echo(f"Rule pack {pack.version} ({pack.digest[:19]}\u2026), {len(chosen)} rules"
               + (f" checked when leaving {gate}" if gate else ""))
    current = None
    for r in chosen:
        if r.gate != current:
            current = r.gate
            click.echo(f"\n{r.gate} gate")
        severity = r.severity_at(gate or r.gate)
        later = "".join(f" ({s} from {g})" for g, s in r.escalate.items() if s != severity)
        click.echo(f"  {r.id}  {severity:<8}  {r.principle:<30} {r.title}{later}")


@rules.command("explain")
@click.argument("rule_id")
def explain(rule_id):
    """Explain one rule: what it checks, the handbook's words, and how to fix a finding."""
    from ..errors import UsageError
    from ..rulepack import load_pack

    pack = load_pack()
    rule = pack.by_id.get(rule_id.upper())
    if rule is None:
        raise UsageError(f"unknown rule {rule_id!r}; `isp rules list` shows every rule id")
    wrap = lambda text: textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    click.echo(f"{rule.id}: {rule.title}")
    click.echo(f"  principle: {rule.principle}")
    when = f"{rule.severity} from the {rule.gate} gate on"
    for g, s in rule.escalate.items():
        when += f"; {s} from the {g} gate on"
    click.echo(f"  severity:  {when}")
    click.echo(f"  checks:    {json.dumps(rule.when)}" + (f", one finding per item of {rule.each}" if rule.each else ""))
    click.echo("\nThe handbook says:")
    click.echo(wrap(f"\u201c{rule.quote}\u201d"))
    click.echo("\nWhat to do:")
    click.echo(wrap(rule.remediation))
    click.echo(f"\nDefined in rules/{rule.source}; cases beside it.")
