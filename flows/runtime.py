"""How the ``isp`` commands reach Prefect: which server, which deployment, which run.

- Server: ``PREFECT_API_URL`` when set; else the local server ``isp serve`` started (its
  address is in ``$ISP_HOME/prefect/server.json`` while it runs); else Prefect's embedded
  server on ``$ISP_HOME/prefect`` (no set-up, a few seconds more per command).
- Runs: ``isp advance`` creates a run of the ``advance-partnership/advance`` deployment and
  executes it in its own process until the run suspends. ``isp approve`` records the
  decision and applies the move in the store first (``services.decide_and_apply``), then
  calls ``finish_decided_run``: it resumes the waiting run, which finds its work done, and,
  when no ``isp serve`` is polling the deployment, executes the resumed run itself.
"""

import json
import os
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

from ._prefect import configure, isp_home

SERVER_FILE = "server.json"


def server_file() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or isp_home() / "prefect") / SERVER_FILE


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False




def connect() -> str:
    """Choose the Prefect server before Prefect is imported; returns a description of it."""
    configure()
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    path = server_file()
    if path.exists():
        try:
            url = json.loads(path.read_text())["url"]
        except (OSError, ValueError, KeyError):
            url = None
        if url and healthy(url):
            os.environ["PREFECT_API_URL"] = url
            return url
    return "embedded"


def store_tag() -> str:
    """Names the store a run belongs to, so that stores sharing one Prefect server never
    resume each other's runs (a digest of the store's URL, password removed)."""
    import hashlib

    from isp_lifecycle.store.engine import database_url, safe_url

    return "store:" + hashlib.sha256(safe_url(database_url()).encode()).hexdigest()[:12]


def tags(partnership_id: str) -> list[str]:
    return [f"partnership:{partnership_id}", store_tag()]


def ensure_advance_deployment():
    """Register (or refresh) the served deployment the advance runs belong to."""
    from .advance import DEPLOYMENT_NAME, advance_partnership

    return advance_partnership.to_deployment(name=DEPLOYMENT_NAME, paused=False).apply()


@contextmanager
def without_heartbeat():
    """For runs a command executes and waits for: Prefect's heartbeat thread only adds ~1 s
    of waiting at exit, and no environment value turns it off."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def execute(flow_run) -> tuple[str, object]:
    """Run a flow run in this process until it finishes or suspends."""
    from prefect.exceptions import Abort, Pause
    from prefect.flow_engine import run_flow

    from .advance import advance_partnership

    try:
        with without_heartbeat():
            state = run_flow(advance_partnership, flow_run=flow_run, parameters=flow_run.parameters,
                             return_type="state")
    except Pause:
        return "suspended", None
    except Abort:  # another process (a running `isp serve`) took the run first
        return "taken", None
    if state is not None and state.is_completed():
        return "completed", state.result()
    return (state.type.value.lower() if state is not None else "unknown"), state


def start_advance(parameters: dict) -> tuple[str, object, UUID]:
    """Create an ``advance-partnership`` run and execute it here until it suspends or ends."""
    from prefect.deployments import run_deployment

    from .advance import DEPLOYMENT_NAME, FLOW_NAME

    ensure_advance_deployment()
    flow_run = run_deployment(f"{FLOW_NAME}/{DEPLOYMENT_NAME}", parameters=parameters, timeout=0,
                              tags=tags(parameters["partnership_id"]))
    outcome, value = execute(flow_run)
    return outcome, value, flow_run.id


def waiting_runs(partnership_id: str) -> list:
    """Suspended advance runs of a partnership, newest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                tags=FlowRunFilterTags(all_=tags(partnership_id)),
            ),
            sort=FlowRunSort.START_TIME_DESC,
        )


def serve_is_polling() -> bool:
    """Whether an ``isp serve`` process is polling the advance deployment right now."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import DeploymentStatus

    from .advance import DEPLOYMENT_NAME, FLOW_NAME

    try:
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(f"{FLOW_NAME}/{DEPLOYMENT_NAME}")
    except Exception:  # no such deployment yet: nobody serves it
        return False
    # a stopped `isp serve` pauses its deployments; a killed one stays READY for up to a minute
    return deployment.status == DeploymentStatus.READY and not deployment.paused


def resume(flow_run_id: UUID, decision: dict) -> bool:
    """Resume a suspended run with a decision; False when it is no longer waiting."""
    from prefect.exceptions import NotPausedError
    from prefect.flow_runs import resume_flow_run

    try:
        resume_flow_run(flow_run_id, run_input=decision)
    except NotPausedError:
        return False
    return True


def read_run(flow_run_id: UUID):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def finish_decided_run(partnership_id: str, decision: dict) -> str:
    """Let the run that waited for a decision, already recorded and applied in the store,
    complete: resume it (it finds its steps done) and, unless a running ``isp serve`` takes
    it, execute it here. Returns a line for the user, empty when all went as usual. Never
    raises: the store is the record, and a resumed run Prefect could not finish now is run
    by the next ``isp serve``."""
    try:
        connect()
        resumed = next((run for run in waiting_runs(partnership_id) if resume(run.id, decision)), None)
        if resumed is None:  # the run is gone (crashed, timed out): nothing is left for it to do
            return ""
        if serve_is_polling():
            return "a running `isp serve` resumes the workflow"
        run = read_run(resumed.id)
        if run.state is not None and run.state.is_scheduled():
            outcome, _ = execute(run)
            return "" if outcome in ("completed", "taken") else f"{partnership_id}: workflow run {resumed.id} {outcome}"
        return ""
    except Exception as exc:  # Prefect unreachable or failing: the decision is applied all the same
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{partnership_id}: the decision is applied; its workflow could not be finished now ({text[:200]})"


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
