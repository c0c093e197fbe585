"""``isp token``: API tokens made by the operator on the service's host.

The secret goes alone to standard output (so ``TOKEN=$(isp token create …)`` works) and
nowhere else; its id, which the record and ``isp token revoke`` use, goes to standard error.
"""

from __future__ import annotations

import json

import click

from .options import SuggestingGroup

from .store import open_store


@click.group(cls=SuggestingGroup)
def token():
    """Make, list and revoke API tokens (Authorization: Bearer TOKEN)."""


@token.command()
@click.argument("email")
@click.option("--name", metavar="NAME", help="What the token is for (shown by `isp token list`).")
@click.option("--days", type=int, default=90, show_default=True, help="Days until the token expires.")
def create(email, name, days):
    """Make a token for EMAIL and print it alone on standard output (method operator-token)."""
    from .. import settings, tokens

    operator = settings.current().user
    with open_store() as store:
        made = tokens.create(store, email, name=name, days=days, actor=operator)
    click.echo(made.secret)
    click.echo(f"token id {made.id}, for {email}, expires {made.expires.date().isoformat()}", err=True)


@token.command("list")
@click.argument("email", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
def list_(email, fmt):
    """The tokens (of EMAIL), oldest first; never their secrets."""
    from .. import tokens

    with open_store() as store:
        rows = tokens.list_tokens(store, email)
    for row in rows:
        if fmt == "json":
            click.echo(json.dumps({k: row[k] for k in ("id", "email", "name", "method", "created", "expires",
                                                       "last_used")}))
        else:
            state = f"revoked {row['revoked']}" if row["revoked"] else f"expires {row['expires']}"
            click.echo(f"{row['id']}  {row['email']:<32} {row['method']:<15} {state}  "
                       f"last used {row['last_used'] or 'never'}  {row['name']}")


@token.command()
@click.argument("token_id", metavar="ID")
def revoke(token_id):
    """End the token ID now: its next call is refused (401)."""
    from .. import settings, tokens

    with open_store() as store:
        changed = tokens.revoke(store, token_id, actor=settings.current().user)
    click.echo(f"token {token_id} revoked" if changed else f"token {token_id} was already revoked")
