"""Waiting runs that people can read in Prefect's UI: named for the partnership and the move
(``tamale-health: convene → commit (request 2)``), and a decision form that shows what is
decided — the partnership, the move, who asked, the findings — and why the last decision
typed there was refused, if it was.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE


def run_name(partnership_id: str, from_stage: str, to_stage: str, request_id: int) -> str:
    return f"{partnership_id}: {from_stage} → {to_stage} (request {request_id})"


def _findings(findings: list[dict]) -> list[str]:
    blocking = [f for f in findings if f.get("severity") == "blocking"]
    advisory = [f for f in findings if f.get("severity") != "blocking"]
    lines = [f"**Findings:** {len(blocking)} blocking, {len(advisory)} advisory"]
    for f in (blocking + advisory)[:10]:
        lines.append(f"- {f.get('severity')}: {f.get('message')} ({f.get('rule')}, {f.get('subject')})")
    return lines


def describe(request_id: int, refusal: str | None = None) -> tuple[str, str]:
    """(run name, Markdown description of the decision to take)."""
    from isp_lifecycle import approvals, services
    from isp_lifecycle.store import Store

    with Store.open() as store:
        request = approvals.request(store, request_id)
        shown = services.show(store, request.partnership_id).to_json()
    lines = [f"### {shown['name']} ({request.partnership_id}, {shown['mission']})",
             f"**Move:** {request.from_stage} → {request.to_stage}, requested by {request.requested_by} on "
             f"{request.requested_at.date().isoformat()} (request {request_id}).",
             *_findings(shown["findings"]),
             "Decide as the mission director or a delegate (`approver`: your email); your decision is recorded "
             "as asserted, not signed in."]
    if refusal:
        lines.insert(1, f"> **The last decision typed here was refused:** {refusal}")
    return run_name(request.partnership_id, request.from_stage, request.to_stage, request_id), "\n\n".join(lines)


@task(cache_policy=NO_CACHE)
def name_waiting_run(request_id: int, refusal: str | None = None) -> str:
    """Rename this run for people; return the description for its decision form."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    name, description = describe(request_id, refusal)
    if flow_run.id:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, name=name)
    return description
