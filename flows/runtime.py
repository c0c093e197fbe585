"""How the ``isp`` commands reach Prefect: which server, which deployment, which run.

- Server: ``PREFECT_API_URL`` when set; else the Prefect server a running ``isp serve``
  started (its address is in ``$ISP_HOME/prefect/server.json`` while it runs); else this
  home's local server (``local_server``: started by the first command that needs it, reused
  by the later ones, stopped after idle minutes or when ``isp serve`` takes over); Prefect's
  temporary server only when the local one cannot start.
- Runs: ``isp advance`` settles a blocked gate without Prefect; a passing gate creates a run
  of the ``advance-partnership/advance`` deployment and executes it in its own process until
  the run suspends. ``isp approve`` records the decision and applies the move in one
  transaction first (``services.decide_and_apply``), then ``finish_decided_run`` settles the
  waiting run without running any flow: resumed for a polling ``isp serve``, else marked
  completed; with no server running, it is left for the partnership's next advance to close.
"""

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

from . import local_server
from ._prefect import configure, isp_home
from .local_server import healthy

SERVER_FILE = local_server.SERVE_MARKER


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or isp_home() / "prefect")


def server_file() -> Path:
    """The marker of the Prefect server a running ``isp serve`` started."""
    return prefect_home() / SERVER_FILE


def serve_server_url() -> str | None:
    """The address of the Prefect server of a running ``isp serve``, when it answers."""
    try:
        url = json.loads(server_file().read_text())["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if healthy(url) else None


_chosen: dict[str, str] = {}  # address of a local server -> how connect() described it


def shared_server() -> str | None:
    """The Prefect server others share, when there is one: ``PREFECT_API_URL`` as configured,
    else the server of a running ``isp serve``; None on the embedded default (no server, or
    only this home's local server)."""
    configure()
    url = os.environ.get("PREFECT_API_URL")
    if url and url not in _chosen:
        return url
    return serve_server_url()


def connect(start: bool = True) -> str:
    """Choose the Prefect server before Prefect is imported, and describe it: the shared one
    (its address); else this home's local server ("the local server URL"), started now when
    none runs and ``start`` is true; "embedded" (Prefect's temporary server, started by the
    first flow run of this process) when the local one cannot start; "none" when nothing
    runs and ``start`` is false."""
    configure()
    if os.environ.get("PREFECT_API_URL"):
        return _chosen.get(os.environ["PREFECT_API_URL"], os.environ["PREFECT_API_URL"])
    url = serve_server_url()
    if url:
        os.environ["PREFECT_API_URL"] = url
        return url
    home = prefect_home()
    url, _ = local_server.ensure(home, start=False)
    if url is None and not start:
        return "none"
    if url is None:
        print("starting the local Prefect server of this ISP_HOME (once: later commands reuse it; "
              f"it stops after {local_server.IDLE_SECONDS // 60} idle minutes)", file=sys.stderr, flush=True)
        try:
            url, _ = local_server.ensure(home)
        except local_server.LocalServerError as exc:
            print(f"{exc}; using Prefect's temporary server instead", file=sys.stderr, flush=True)
            return "embedded"
    os.environ["PREFECT_API_URL"] = url
    _chosen[url] = f"the local server {url}"
    return _chosen[url]


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
    close_stale_runs(parameters["partnership_id"])
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


def close_run(flow_run_id: UUID, message: str) -> None:
    """Mark a waiting run completed: its work (the decision and the move) is done in the store."""
    from prefect.client.orchestration import get_client
    from prefect.states import Completed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Completed(message=message), force=True)


def finish_decided_run(partnership_id: str, decision: dict, request_id: int | None = None) -> str:
    """Settle the run that waited for a decision already recorded and applied in the store.

    Nothing is started for it and no flow runs here: when no Prefect server runs (the local
    one stopped when idle), the waiting run is closed by the partnership's next advance
    (``close_stale_runs``); with a running ``isp serve`` polling, the run is resumed and
    ``isp serve`` runs it (it finds its steps done); otherwise the run is marked completed.
    Returns a line for the user, empty when all went as usual. Never raises: the store is the
    record."""
    try:
        if connect(start=False) == "none":
            return ""
        runs = waiting_runs(partnership_id)
        if runs and serve_is_polling():
            if any(resume(run.id, decision) for run in runs):
                return "a running `isp serve` resumes the workflow"
            return ""
        what = f"request #{request_id}" if request_id is not None else "the request"
        done = "approved" if decision["decision"] == "approve" else "rejected"
        for run in runs:
            close_run(run.id, f"{what} {done} by {decision['approver']}, recorded and applied by isp approve")
        return ""
    except Exception as exc:  # Prefect unreachable or failing: the decision is applied all the same
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{partnership_id}: the decision is applied; its workflow could not be finished now ({text[:200]})"


def close_stale_runs(partnership_id: str) -> int:
    """Before a new advance: close the partnership's runs still waiting for a decision that was
    taken while no Prefect server ran (no request of the partnership is open at that point)."""
    runs = waiting_runs(partnership_id)
    for run in runs:
        close_run(run.id, "its request was settled while no Prefect server ran")
    return len(runs)


def drain_background(timeout: float = 5) -> None:
    """Send what Prefect's background workers of this process still hold (run logs, events)
    while the server answers: call before stopping a server this process used. Never raises."""
    if "prefect" not in sys.modules:
        return
    try:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=timeout)  # every queue service of the process: logs and events
    except Exception:  # logs are a courtesy; stopping must not fail on them
        pass


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
