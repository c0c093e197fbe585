"""``isp web``: the web application alone (no Prefect server, no schedules), stateless over the
store, so that several copies can stand behind one load balancer on one PostgreSQL store."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8420, show_default=True,
              help="Port to listen on (0: any free port; the address used is printed).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes sharing the port.")
def web(host, port, workers):
    """Run the web application and JSON API (docs/spec/api.md) until stopped."""
    from ..web import server

    sys.exit(server.run(host, port, workers))
