"""The ``escalate-approvals`` flow: remind directors of undecided requests, then escalate."""

from ._prefect import configure

configure()

from datetime import datetime  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402


@task
def remind_and_escalate(now: str | None) -> dict:
    from isp_lifecycle import approvals
    from isp_lifecycle.store import Store

    with Store.open() as store:
        return approvals.remind_and_escalate(store, datetime.fromisoformat(now) if now else None)


@task
def apply_decided() -> list:
    from isp_lifecycle import approvals
    from isp_lifecycle.store import Store

    with Store.open() as store:
        return approvals.apply_decided(store)


@task(retries=3, retry_delay_seconds=[5, 30, 120])
def deliver() -> dict:
    from .notify import deliver_pending_now

    return deliver_pending_now()


@flow(name="escalate-approvals", log_prints=True)
def escalate_approvals(now: str | None = None) -> dict:
    """Queue reminders (after ISP_REMIND_DAYS) and escalations (after twice that), each once,
    and apply recorded decisions whose workflow is gone."""
    sent = remind_and_escalate(now)
    applied = apply_decided()
    get_run_logger().info("reminded %s, escalated %s, applied %s", sent["reminded"], sent["escalated"],
                          [a["request"] for a in applied])
    deliver()
    return dict(sent, applied=[a["request"] for a in applied])
