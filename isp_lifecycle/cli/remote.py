"""``advance``, ``approve`` and ``pending`` through a running service (``isp_lifecycle.client``).

The caller is the token's person: ``--as`` may only name them. Output reads like the local
commands'; exit codes follow the HTTP statuses (``client.ServiceError``).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import click

from ..client import Client
from ..errors import RefusedOperation


def client(as_: str | None) -> Client | None:
    """The service client, when a service and a token are known; checks ``--as`` against it."""
    from ..settings import current

    found = Client.known(current())
    if found is None:
        return None
    if as_ is not None:
        _, me = found.call("GET", "/me")
        if me["email"].casefold() != as_.casefold():
            raise RefusedOperation(f"--as {as_} is not the person of the token in use ({me['email']}); "
                                   "leave --as out, or use that person's token")
    click.echo(f"through the service at {found.url}", err=True)
    return found


def _until_applied(service: Client, request_id: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        _, approval = service.call("GET", f"/approvals/{request_id}")
        if approval["applied"] or approval["status"] == "stale" or time.monotonic() > deadline:
            return approval
        time.sleep(0.5)


def advance(service: Client, partnership_id: str, to: str | None, as_of: str | None, wait: bool) -> int:
    status, answer = service.call("POST", f"/partnerships/{partnership_id}/advance", {"to": to, "as_of": as_of},
                                  accept=(409,))
    if status == 409 and "verdict" in answer:
        verdict = answer["verdict"]
        click.echo(f"{partnership_id}: the {verdict['gate']} gate is BLOCKED; the findings are recorded and sent "
                   "to the leaders.")
        for f in verdict["findings"]:
            if f["severity"] == "blocking":
                click.echo(f"  {f['rule']} [{f['principle']}] {f['subject']}: {f['message']}")
        return 1
    if status == 409:
        raise RefusedOperation(f"{answer.get('detail')} (HTTP 409 from {service.url})")
    request = answer["request"]
    click.echo(f"{partnership_id}: approval request #{request['id']} ({request['from']} → {request['to']}) "
               "recorded and sent to the mission director; waiting for the decision.")
    click.echo(f"  decide: isp approve {partnership_id} [--reject] [--note TEXT]")
    if wait:
        click.echo("waiting for the decision to be applied (Ctrl-C stops waiting; the request stays open)", err=True)
        final = _until_applied(service, request["id"], float("inf"))
        click.echo(f"{partnership_id}: request #{request['id']} {final['status']}")
    return 0


def approve(service: Client, partnership_id: str, reject: bool, note: str | None, timeout: float) -> int:
    _, shown = service.call("GET", f"/partnerships/{partnership_id}")
    request_id = shown["pending_request"]
    if request_id is None:
        raise RefusedOperation(f"{partnership_id} has no pending approval request")
    body = {"decision": "reject" if reject else "approve", "note": note}
    _, approval = service.call("POST", f"/approvals/{request_id}/decision", body)
    if not approval["applied"]:
        approval = _until_applied(service, request_id, timeout)
    if not approval["applied"]:
        raise RefusedOperation(f"{partnership_id}: the decision on request #{request_id} is recorded but not yet "
                               "applied; it will be applied by the next run of the workflow")
    if approval["status"] == "approved":
        click.echo(f"{partnership_id}: request #{request_id} approved by {approval['decided_by']}; moved "
                   f"{approval['from']} → {approval['to']}")
    else:
        click.echo(f"{partnership_id}: request #{request_id} rejected by {approval['decided_by']}; stays in "
                   f"{approval['from']}")
    return 0


def pending(service: Client, fmt: str) -> int:
    rows, after = [], None
    while True:
        _, page = service.call("GET", "/approvals?status=pending&limit=1000" + (f"&after={after}" if after else ""))
        rows += page["approvals"]
        after = page["next"]
        if after is None:
            break
    now = datetime.now(timezone.utc)
    for row in rows:
        requested = datetime.fromisoformat(row["requested_at"].replace("Z", "+00:00"))
        line = {"request": row["id"], "partnership": row["partnership"], "from": row["from"], "to": row["to"],
                "requested_by": row["requested_by"], "requested_at": row["requested_at"],
                "age_days": (now - requested).days}
        if fmt == "json":
            click.echo(json.dumps(line))
        else:
            click.echo(f"#{line['request']:<5} {line['age_days']:>3} days  {line['partnership']:<24} "
                       f"{line['from']} → {line['to']}  requested by {line['requested_by']}")
    if not rows and fmt != "json":
        click.echo("No approval request is waiting.")
    return 0
