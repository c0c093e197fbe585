"""What every request and response goes through, below the routes (pure ASGI, so that a body
too large is refused before the application reads it):

- a body over 1 MiB is answered 413 without being read past the limit (``Content-Length``
  announced too large: not read at all) — unless the store is down, since 503 comes first;
- every response carries the security headers of ``docs/spec/api.md`` (Pages).
"""

from __future__ import annotations

from collections.abc import Callable

MAX_BODY = 1024 * 1024
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
     b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class Guard:
    def __init__(self, app, store_up: Callable[[], bool]) -> None:
        self.app = app
        self.store_up = store_up

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (n, v) for n, v in SECURITY_HEADERS if n not in names]
            await send(message)

        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return await self._too_large(scope, receive, send_secured, bad=not declared.isdigit())
        if declared is not None:
            return await self.app(scope, receive, send_secured)
        body, more = b"", True  # no length announced (chunked): read up to the limit, then replay
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                return await self._too_large(scope, receive, send_secured)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send_secured)

    async def _too_large(self, scope, receive, send, bad: bool = False) -> None:
        import anyio

        from .errors import problem

        if bad:
            status, detail = 400, "Content-Length must be a number of bytes"
        else:
            status, detail = 413, f"the body is over {MAX_BODY} bytes (1 MiB); nothing more was read"
        if not await anyio.to_thread.run_sync(self.store_up):
            status, detail = 503, "the store cannot be reached; try again shortly"
        response = problem(status, detail)
        response.headers["connection"] = "close"
        await response(scope, receive, send)
