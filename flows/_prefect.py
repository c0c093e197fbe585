"""Prefect settings the project chooses, applied before Prefect is imported.

Prefect reads its settings at import time, so every entry point that runs flows
calls ``configure()`` first. Values already in the environment win, so an operator
can still point ``PREFECT_API_URL`` at a shared server.
"""

import os
from pathlib import Path


def isp_home() -> Path:
    """``ISP_HOME``, as the store reads it (one definition: ``isp_lifecycle.settings``)."""
    from isp_lifecycle.settings import current

    return current().home


CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"

DEFAULTS = {
    # no telemetry, ever (the machines are often offline; the errors are noise)
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # quiet output: no per-task lines, no banner; and on the terminal only Prefect's warnings
    # and errors (flow-run lines, "Starting temporary server…" and links to Prefect's docs
    # only with `-v`: ``show_output()``). Run logs still reach the server, hence its UI.
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
    CONSOLE_LEVEL: "WARNING",
    "PREFECT_CLI_PROMPT": "false",
    # an embedded server on a fresh database takes ~15 s; the default 20 s timeout is too close
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_API_SERVICES_TELEMETRY_ENABLED": "false",
    "PREFECT_UI_ENABLED": "true",
}


def show_output() -> None:
    """``-v``: let Prefect's own lines reach the terminal (call before Prefect is imported)."""
    os.environ[CONSOLE_LEVEL] = "NOTSET"


def configure() -> None:
    """Set the project's Prefect defaults (``PREFECT_HOME`` under ``ISP_HOME``) unless already set."""
    os.environ.setdefault("PREFECT_HOME", str(isp_home() / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
