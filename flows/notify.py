"""The ``deliver-notifications`` flow: send what the outbox holds."""

from ._prefect import configure

configure()

from prefect import flow, get_run_logger  # noqa: E402


def deliver_pending_now() -> dict:
    """Deliver every pending message whose back-off has passed; a summary of what happened."""
    from isp_lifecycle.store import Store
    from isp_lifecycle.notifications.deliver import deliver_pending

    with Store.open() as store:
        report = deliver_pending(store)
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed, "pending": report.pending}


@flow(name="deliver-notifications", log_prints=True, retries=0)
def deliver_notifications() -> dict:
    summary = deliver_pending_now()
    get_run_logger().info("notifications: %s", summary)
    return summary
