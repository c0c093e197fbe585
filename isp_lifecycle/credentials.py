"""The tokens ``isp login`` keeps: ``~/.config/isp/credentials.json``, keyed by the service's URL.

(``XDG_CONFIG_HOME`` replaces ``~/.config`` when set.) The file is created with mode 600 inside a folder of mode 700 (written to a temporary file
of that mode first, then renamed, so it is never readable by others, even for an instant).
Later commands find the token of a service here when ``ISP_TOKEN`` is not set
(``docs/spec/cli.md``, "Through a service").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import UsageError


def path() -> Path:
    """``~/.config/isp/credentials.json`` (``$XDG_CONFIG_HOME/isp/…`` when that is set)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "isp" / "credentials.json"


def service_key(url: str) -> str:
    """One spelling per service: scheme and host lower-cased, no trailing slash."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"URL must be the service's http(s) address, not {url[:80]!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _read(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(url: str) -> str | None:
    """The token kept for the service at ``url``, or ``None`` (also when ``url`` cannot be a service's)."""
    try:
        key = service_key(url)
    except UsageError:
        return None
    entry = _read(path()).get(key)
    token = entry.get("token") if isinstance(entry, dict) else None
    return token if isinstance(token, str) and token else None


def save(url: str, token: str, email: str | None = None) -> Path:
    file = path()
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = _read(file)
    data[service_key(url)] = {"token": token, "email": email}
    temporary = file.with_name(f".credentials.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, file)
    return file
