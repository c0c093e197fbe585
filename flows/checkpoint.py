"""The ``audit-checkpoint`` flow: once a day, ``isp serve`` writes a checkpoint of the audit log
under ``$ISP_HOME/checkpoints/`` (``isp audit checkpoint``). A checkpoint is what shows the
newest audit entries removed; it is worth that only once copied off this machine, which the
README asks operators to do (``isp audit verify --checkpoint FILE`` reads it back)."""

from ._prefect import configure

configure()

from prefect import flow  # noqa: E402

CHECKPOINT_CRON = "7 0 * * *"  # daily, just after midnight UTC


@flow(name="audit-checkpoint", log_prints=True)
def audit_checkpoint() -> str:
    """Write today's checkpoint; refused (the run fails, loudly) when the chain does not verify
    or no audit key is available: a checkpoint vouches for what it saw, and none is made up."""
    from isp_lifecycle.store import Store
    from isp_lifecycle.store.record import write_checkpoint

    with Store.open() as store:
        path = write_checkpoint(store)
    print(f"audit checkpoint written to {path}: copy it off this machine")  # a run log line (log_prints)
    return str(path)


def checkpoint_deployment():
    return audit_checkpoint.to_deployment(name="checkpoint", cron=CHECKPOINT_CRON)
