"""The ``isp`` command's client of a running service (``docs/spec/cli.md``, "Through a service").

A service is known from ``ISP_URL``, else from the ``$ISP_HOME/serve.json`` of a running
``isp serve``; a token from ``ISP_TOKEN``, else the one ``isp login`` kept for that service in
``~/.config/isp/credentials.json``. Answers map to exit codes as the spec says: 401, 403,
409, 429, 503 and an unreachable service are exit 1 (with the reason), 400, 404, 413 and 422
exit 2. Only httpx and the standard library: no Prefect, no store on this path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from . import credentials
from .errors import IspError
from .settings import Settings

EXIT_ONE = frozenset({401, 403, 409, 429, 503})


class ServiceError(IspError):
    """The service refused or could not answer; ``status`` is the HTTP status (0: unreachable)."""

    def __init__(self, message: str, status: int, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {}
        self.exit_code = 1 if status in EXIT_ONE or status == 0 or status >= 500 else 2


def _running(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def service_url(settings: Settings) -> str | None:
    if settings.url:
        return settings.url
    try:
        found = json.loads((settings.home / "serve.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not _running(found.get("pid")):
        return None
    url = found.get("web_url")
    return url.rstrip("/") if isinstance(url, str) else None


@dataclass
class Client:
    url: str
    token: str = ""

    @classmethod
    def known(cls, settings: Settings) -> Client | None:
        """A client when a service and a token are both known, else ``None`` (work locally)."""
        url = service_url(settings)
        if url is None:
            return None
        token = settings.token or credentials.load(url)
        return cls(url, token) if token else None

    def call(self, method: str, path: str, body: Any = None, *, accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        import httpx

        try:
            response = httpx.request(method, self.url + "/api/v1" + path, json=body, timeout=120,
                                     headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise ServiceError(f"the service at {self.url} cannot be reached ({type(exc).__name__}); "
                               "start it (`isp serve`) or unset ISP_URL to work locally", 0) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code < 400 or response.status_code in accept:
            return response.status_code, answer
        detail = answer.get("detail") if isinstance(answer, dict) else None
        raise ServiceError(f"{detail or response.reason_phrase} (HTTP {response.status_code} from {self.url})",
                           response.status_code, answer if isinstance(answer, dict) else None)
