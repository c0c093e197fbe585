"""``isp login URL``: sign in to a running service through a browser and keep its token.

The command asks the service for a device code, prints a link and a short code on standard
error, and polls while the person opens the link in any browser where they are signed in (a
phone will do), checks the code and confirms. The token it then receives goes to
``~/.config/isp/credentials.json`` (mode 600), keyed by the service's URL, and nowhere else:
not to standard output, not to a log.
"""

from __future__ import annotations

import time

import click


def _post(client, url: str, body: dict):
    import httpx

    from ..errors import RefusedOperation

    try:
        return client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise RefusedOperation(f"cannot reach the service at {url.rsplit('/auth/', 1)[0]}: {type(exc).__name__}") from None


@click.command()
@click.argument("url")
@click.option("--name", default=None, help="What the token is for (shown on the account page).")
def login(url, name):
    """Sign in to the service at URL through a browser and keep the token for later commands."""
    import socket

    import httpx

    from .. import credentials
    from ..errors import RefusedOperation

    base = credentials.service_key(url)
    with httpx.Client(timeout=15) as client:
        answer = _post(client, f"{base}/auth/device/code", {"name": name or f"isp login on {socket.gethostname()}"})
        if answer.status_code != 200:
            raise RefusedOperation(f"the service refused to start a sign-in (HTTP {answer.status_code})")
        start = answer.json()
        click.echo(f"Open {start['verification_uri_complete']} in a browser where you are signed in,", err=True)
        click.echo(f"check that it shows the code {start['user_code']}, and confirm.", err=True)
        deadline = time.monotonic() + float(start.get("expires_in", 600))
        while time.monotonic() < deadline:
            time.sleep(float(start.get("interval", 2)))
            polled = _post(client, f"{base}/auth/device/token", {"device_code": start["device_code"]})
            if polled.status_code == 200:
                where = credentials.save(base, polled.json()["token"])
                click.echo(f"Signed in to {base}; the token is kept in {where}.", err=True)
                return 0
            error = polled.json().get("error") if polled.headers.get("content-type", "").startswith("application/json") else None
            if error != "authorization_pending":
                raise RefusedOperation(f"the sign-in ended without a token ({error or polled.status_code}); run isp login again")
    raise RefusedOperation("the code expired before it was confirmed; run isp login again")
