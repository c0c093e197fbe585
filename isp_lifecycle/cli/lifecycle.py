"""Lifecycle commands that run workflows: advance, approve, pending, serve.

Prefect is imported only inside these commands (through ``flows``), never by ``isp check``.
"""

import json
import sys
from datetime import date

import click

from ..errors import RefusedOperation
from ..lifecycle import REVIEW_EXITS
from . import remote
from .options import VERBOSE, parse_date
from .store import open_store


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@click.argument("partnership_id")
@click.option("--to", "to", type=click.Choice(list(REVIEW_EXITS)),
              help="From review: the next cycle (implement, default, through the review gate) or closed (no gate).")
@click.option("--as", "as_", metavar="EMAIL", help="Who requests the move (default: ISP_USER, else user@host).")
@click.option("--as-of", "as_of", callback=parse_date, metavar="DATE",
              help="Evaluate the gate as of this date, YYYY-MM-DD (default: today, UTC).")
@click.option("--wait", is_flag=True, help="Return only once the decision has been applied.")
@click.option("--engine", type=click.Choice(["durable", "python"]), default="durable", show_default=True,
              help="The rule engine evaluating the gate (python: the same rules, without durable_rules).")
@VERBOSE
@click.pass_context
def advance(ctx, partnership_id, to, as_, as_of, wait, engine):
    """Run the gate of the current stage and ask the mission director to approve the move.

    \b
    Blocked: the findings are recorded and sent (or queued) to the leaders (exit 1).
    Passed:  an approval request is recorded and sent to the director and delegates; the
             workflow then waits for the decision without holding any process, and this
             command returns (exit 0). Decide with `isp approve`.
    """
    service = remote.client(as_)
    if service is not None:
        ctx.exit(remote.advance(service, partnership_id, to, as_of and as_of.isoformat(), wait))
    from .. import services

    requester = as_ or services.default_actor()
    with open_store() as store:
        plan = services.check_can_advance(store, partnership_id, to)
    stage, target = plan.stage, plan.target

    from isp_lifecycle.flows import runtime

    if runtime.shared_server() is None and plan.gate is not None:
        blocked = _blocked_here(partnership_id, to, requester, as_of, engine)
        if blocked is not None:
            _say_blocked(partnership_id, blocked["gate"], blocked["blocking"])
            ctx.exit(1)
    where = runtime.connect()
    _say(f"{partnership_id}: running the {plan.gate or 'closing'} step ({stage} → {target}) on Prefect ({where})")
    outcome, value, flow_run_id = runtime.start_advance(
        {"partnership_id": partnership_id, "to": to, "requested_by": requester,
         "as_of": as_of and as_of.isoformat(), "engine": engine})
    if outcome == "completed" and isinstance(value, dict) and value.get("outcome") == "blocked":
        _say_blocked(partnership_id, value["gate"], value.get("blocking", []))
        ctx.exit(1)
    if outcome not in ("suspended", "completed"):
        raise RefusedOperation(f"{partnership_id}: the workflow ended {outcome}; see Prefect run {flow_run_id}")
    _say_waiting(partnership_id, value, outcome, flow_run_id, wait)
    ctx.exit(0)


def _say_waiting(partnership_id: str, value, outcome: str, flow_run_id, wait: bool) -> None:
    """After the workflow suspended (or ended): what waits for whom, and how to decide it."""
    from isp_lifecycle.flows import runtime

    from .. import approvals

    with open_store() as store:
        request = approvals.open_or_unapplied(store, partnership_id)
    if request is None:
        if isinstance(value, dict) and value.get("outcome") == "approved":
            click.echo(f"{partnership_id}: the decided request #{value['request']} is applied: moved "
                       f"{value['from']} → {value['to']}")
        else:
            click.echo(f"{partnership_id}: nothing is waiting (run {flow_run_id} {outcome})")
        return
    click.echo(f"{partnership_id}: approval request #{request.id} ({request.from_stage} → {request.to_stage}) "
               f"recorded and {_told(partnership_id, 'approval-requested', 'the mission director')}; "
               f"waiting for the decision (run {flow_run_id}).")
    click.echo(f"  decide: isp approve {partnership_id} --as EMAIL [--reject] [--note TEXT]")
    if wait:
        with open_store() as store:
            _say("waiting for the decision to be applied (Ctrl-C stops waiting; the request stays open)")
            runtime.wait_for(lambda: approvals.settled(store, request.id), timeout=float("inf"), interval=2)
            click.echo(f"{partnership_id}: request #{request.id} {approvals.request(store, request.id).status}")


def _blocked_here(partnership_id: str, to, requester: str, as_of: date | None, engine: str) -> dict | None:
    """On the embedded default, settle a blocked gate in this process: the verdict recorded and
    the leaders' message delivered exactly as the workflow's first steps would, without
    starting Prefect's embedded server (seconds) to say what ``isp check`` says at once.
    ``None`` when the gate passes: the workflow then runs as usual and records it."""
    from .. import approvals
    from ..notifications.deliver import deliver_pending

    with open_store() as store:
        opened = approvals.record_if_blocked(store, partnership_id, requested_by=requester, to=to,
                                             as_of=as_of, engine=engine)
        if opened is None:
            return None
        deliver_pending(store)
    blocking = [f for f in opened.verdict["findings"] if f["severity"] == "blocking"]
    return {"gate": opened.gate, "blocking": blocking}


def _told(partnership_id: str, event: str, whom: str) -> str:
    """How far the latest ``event`` message about the partnership got: "sent to" ``whom`` only
    once every copy has left; else "queued for" them, and who delivers it."""
    from .. import outbox

    with open_store() as store:
        rows = [r for r in outbox.listing(store, partnership_id=partnership_id) if r["event"] == event]
    latest = [r for r in rows if r["queued_at"] == rows[-1]["queued_at"]] if rows else []
    if not latest:
        return f"no message to {whom} was queued (no address on the document)"
    if all(r["status"] == "sent" for r in latest):
        return f"sent to {whom}"
    return f"queued for {whom} (delivered by `isp serve` or `isp notifications deliver`)"


def _say_blocked(partnership_id: str, gate: str, blocking: list[dict]) -> None:
    click.echo(f"{partnership_id}: the {gate} gate is BLOCKED; the findings are recorded; "
               f"{_told(partnership_id, 'gate-blocked', 'the leaders')}.")
    for f in blocking:
        click.echo(f"  {f['rule']} [{f['principle']}] {f['subject']}: {f['message']}")


@click.command()
@click.argument("partnership_id")
@click.option("--as", "as_", metavar="EMAIL",
              help="The deciding mission director or delegate (through a service: the token's person).")
@click.option("--reject", is_flag=True, help="Reject the move (default: approve).")
@click.option("--note", metavar="TEXT", help="Why; recorded with the decision.")
@click.option("--timeout", type=float, default=60, show_default=True,
              help="Accepted for scripts written for earlier versions: the move no longer waits for a workflow.")
@VERBOSE
@click.pass_context
def approve(ctx, partnership_id, as_, reject, note, timeout):
    """Decide the pending approval request of a partnership, then apply the decision.

    Refused (exit 1, nothing applied, the refusal audited) unless EMAIL is the mission
    director or a delegate, is not the requester, and the document is unchanged since
    the request. The decision and the move are one transaction: once the command says
    moved, the stage has moved; the waiting workflow is then resumed to finish its run.
    """
    service = remote.client(as_)
    if service is not None:
        ctx.exit(remote.approve(service, partnership_id, reject, note, timeout))
    if as_ is None:
        raise click.UsageError("Missing option '--as' (needed without a service and token: ISP_URL, ISP_TOKEN).")
    from .. import services
    from ..identity import Identity

    with open_store() as store:
        decided = services.decide_and_apply(store, partnership_id, identity=Identity.asserted(as_),
                                            approve=not reject, note=note)
    click.echo(f"{partnership_id}: request #{decided.request_id} {'rejected' if reject else 'approved'} by {as_}; "
               "applying")
    if decided.applied:
        click.echo(f"{partnership_id}: moved {decided.from_stage} → {decided.to_stage} (now {decided.to_stage})")
    else:
        click.echo(f"{partnership_id}: stays in {decided.from_stage} (rejected)")
    sys.stdout.flush()
    _deliver_now()

    from isp_lifecycle.flows import runtime

    decision = {"decision": "reject" if reject else "approve", "approver": as_, "note": note or ""}
    message = runtime.finish_decided_run(partnership_id, decision, decided.request_id)
    if message:
        _say(message)
    ctx.exit(0)


def _deliver_now() -> None:
    """Send what the decision queued, as the flow's last step used to (the outbox's leases keep
    it to one copy); a failure leaves the messages queued for the next delivery."""
    from ..notifications.deliver import deliver_pending

    try:
        with open_store() as store:
            deliver_pending(store)
    except Exception as exc:  # the decision is applied; delivery is retried later
        _say(f"the messages stay queued ({type(exc).__name__}); `isp notifications deliver` sends them")


@click.command()
@click.option("--mission", help="Only requests of this mission's partnerships, e.g. USAID/Ghana (any case).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table for people; json: one object per line for scripts.")
def pending(mission, fmt):
    """Open approval requests, oldest first: their age, the partnership, its mission, the move,
    who asked and who may decide (the mission director and the delegates).
    """
    service = remote.client(None)
    if service is not None:
        if mission:
            raise click.UsageError("--mission is not available through a service yet (ISP_URL): filter the JSON")
        raise click.exceptions.Exit(remote.pending(service, fmt))
    from .. import services

    with open_store() as store:
        mission = mission and services.mission_named(store, mission)
        rows = services.pending_requests(store, mission=mission)
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row.to_json(), ensure_ascii=False))
        return
    if not rows:
        click.echo(f"No approval request is waiting{f' in mission {mission}' if mission else ''}.")
        return
    click.echo(f"{'REQUEST':<8} {'AGE':>8}  {'PARTNERSHIP':<24} {'MISSION':<16} {'MOVE':<22} REQUESTED BY")
    click.echo(f"{'':<18}  NAME; WHO MAY DECIDE")
    for row in rows:
        move = f"{row.from_stage} → {row.to_stage}"
        click.echo(f"#{row.request:<7} {row.age_days:>3} days  {row.partnership:<24} {row.mission:<16} {move:<22} "
                   f"{row.requested_by}")
        click.echo(f"{'':<18}  {row.name}; may decide: {', '.join(row.approvers) or 'nobody named'}")


@click.command()
@click.option("--prefect-port", "--port", "port", type=click.IntRange(1, 65535), default=4200, show_default=True,
              help="Port of the local Prefect server started when PREFECT_API_URL is not set (--port: same).")
@click.option("--web-port", type=click.IntRange(0, 65535), default=8420, show_default=True,
              help="Port of the web application and HTTP API on 127.0.0.1 (0: any free port).")
def serve(port, web_port):
    """Run the web application and API, and workflows until stopped: resumed approvals,
    notification delivery, reminders and reviews.

    When PREFECT_API_URL is not set, a local Prefect server is started on 127.0.0.1 with its
    database under ISP_HOME, and the other `isp` commands find and use it while it runs.
    """
    from isp_lifecycle.flows import serving

    sys.exit(serving.serve_forever(port, web_port))
