"""The local Prefect servers the lifecycle commands start (one per ISP_HOME, on first need)
outlive the command that started them by design; in tests, none may outlive the session.
``tests/conftest.py`` stops every one found under the session's temporary folders when the
session ends, and a test that starts one on purpose stops it itself."""

from pathlib import Path


def stop_local_servers(root: Path) -> list[Path]:
    """Stop every local Prefect server whose marker lies under ``root``; the homes stopped."""
    from isp_lifecycle.flows import local_server

    stopped = []
    for marker in Path(root).rglob(local_server.MARKER):
        if local_server.stop(marker.parent):
            stopped.append(marker.parent)
    return stopped
