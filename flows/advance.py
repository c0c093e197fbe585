"""The ``advance-partnership`` flow: run the gate, ask the director, wait, act on the decision.

Each task is one call into ``isp_lifecycle.approvals``; the store is the source of truth,
so the flow can die at any line and be run again. While it waits for the decision the
run is *suspended*: no process holds it. A decision resumes it (through ``isp approve``,
or the Prefect UI form, which Prefect checks only against the JSON schema); the resumed
run checks the decision again, and an unauthorised one is refused, audited, and the
run waits again under a new key.
"""

from ._prefect import configure

configure()

from datetime import date  # noqa: E402
from typing import Literal  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.flow_runs import suspend_flow_run  # noqa: E402
from prefect.input import RunInput  # noqa: E402
from pydantic import Field  # noqa: E402

from .naming import name_waiting_run  # noqa: E402

FLOW_NAME = "advance-partnership"
DEPLOYMENT_NAME = "advance"
MAX_REFUSALS = 20  # a run refuses at most this many decisions, then stops waiting (the request stays pending)


class GateDecision(RunInput):
    """The mission director's decision on a gate approval request."""

    decision: Literal["approve", "reject"] = Field(description="approve moves the partnership on; reject keeps it")
    approver: str = Field(description="Your email: the partnership's mission director or a listed delegate")
    note: str = Field(default="", description="Why (recorded with the decision)")


def _store():
    from isp_lifecycle.store import Store

    return Store.open()


@task(persist_result=True)
def open_request(partnership_id: str, to: str | None, requested_by: str, as_of: str | None, engine: str) -> dict:
    from isp_lifecycle import approvals

    with _store() as store:
        opened = approvals.open_request(store, partnership_id, requested_by=requested_by, to=to,
                                        as_of=date.fromisoformat(as_of) if as_of else None, engine=engine)
    return opened.to_json()


# Steps that read or change the store must run every time the flow runs: no cached results.
# Only ``open_request`` and ``take_decision`` (per attempt) are cached, so that a resumed
# run replays them instead of evaluating again or auditing a refusal twice.
@task(cache_policy=NO_CACHE)
def decision_status(request_id: int) -> str:
    from isp_lifecycle import approvals

    with _store() as store:
        return approvals.request(store, request_id).status


@task(persist_result=True)
def take_decision(request_id: int, attempt: int, decision: dict) -> str:
    from isp_lifecycle import approvals

    from isp_lifecycle.access import acting
    from isp_lifecycle.identity import Identity

    with _store() as store, acting(Identity.asserted(decision["approver"])):  # typed into Prefect's form
        return approvals.take_decision(store, request_id, approver=decision["approver"],
                                       approve=decision["decision"] == "approve", note=decision.get("note") or None)


@task(cache_policy=NO_CACHE)
def apply_decision(request_id: int) -> dict:
    from isp_lifecycle import approvals

    with _store() as store:
        return approvals.apply_decision(store, request_id)


@task(retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE)
def deliver() -> dict:
    """Send what the steps queued (only I/O is retried)."""
    from .notify import deliver_pending_now

    return deliver_pending_now()


@flow(name=FLOW_NAME, persist_result=True, log_prints=True)
def advance_partnership(partnership_id: str, to: str | None = None, requested_by: str = "",
                        as_of: str | None = None, request_id: int | None = None, engine: str = "durable") -> dict:
    """Run a partnership's gate and, if it passes, wait for the director's decision and act on it."""
    log = get_run_logger()
    if request_id is None:
        opened = open_request(partnership_id, to, requested_by, as_of, engine)
        if opened["request"] is None:
            blocking = [f for f in opened["verdict"]["findings"] if f["severity"] == "blocking"]
            log.info("%s: the %s gate is blocked by %d finding(s); the leaders are told", partnership_id,
                     opened["gate"], len(blocking))
            deliver()
            return {"partnership": partnership_id, "outcome": "blocked", "gate": opened["gate"], "blocking": blocking}
        request_id = opened["request"]
        deliver()
    attempt, refusal = 0, None
    while decision_status(request_id) == "pending":
        attempt += 1
        if attempt > MAX_REFUSALS:
            return {"partnership": partnership_id, "outcome": "gave-up-waiting", "request": request_id}
        log.info("%s: waiting for the decision on request #%d", partnership_id, request_id)
        form = GateDecision.with_initial_data(description=name_waiting_run(request_id, refusal))
        decision = suspend_flow_run(wait_for_input=form, key=f"request-{request_id}-decision-{attempt}",
                                    timeout=None)
        outcome = take_decision(request_id, attempt, decision.model_dump(include={"decision", "approver", "note"}))
        if outcome.startswith("refused"):
            refusal = f"{decision.approver}: {outcome.removeprefix('refused: ')}"
            log.warning("%s: decision by %s %s; waiting again", partnership_id, decision.approver, outcome)
    result = apply_decision(request_id)
    deliver()
    log.info("%s: request #%d %s", partnership_id, request_id, result["decision"])
    return dict(result, outcome=result["decision"])
