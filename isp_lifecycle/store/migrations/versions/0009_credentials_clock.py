"""The credentials hand of the clock: a counter that moves whenever an API token is revoked,
has its expiry changed or is deleted.

The service keeps the identities of tokens it has checked in memory, so that a read costs no
token lookup. It must still refuse a revoked token at once, in every process serving the
store: each request reads the clock's one row anyway (for the portfolio), and a move of this
counter since an identity was checked sends the service back to the token's row. Triggers do
the counting, so a revocation from any process, or plain SQL, counts. Using a token (its
``last_used_at``) does not move it.

On PostgreSQL, as the portfolio's hand, a deferred constraint trigger that runs at commit: the
clock's row lock stays the last lock a transaction takes.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

POSTGRESQL = [
    """CREATE FUNCTION credentials_clock_tick() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('isp.credentials_tx', true) IS DISTINCT FROM txid_current()::text THEN
            UPDATE portfolio_clock SET credentials = credentials + 1 WHERE id = 1;
            PERFORM set_config('isp.credentials_tx', txid_current()::text, true);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER api_tokens_credentials AFTER UPDATE OF revoked_at, expires_at OR DELETE
    ON api_tokens DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION credentials_clock_tick()""",
]
SQLITE = [f"""CREATE TRIGGER api_tokens_credentials_{name} AFTER {event} ON api_tokens BEGIN
        UPDATE portfolio_clock SET credentials = credentials + 1 WHERE id = 1;
    END""" for name, event in (("update", "UPDATE OF revoked_at, expires_at"), ("delete", "DELETE"))]


def upgrade() -> None:
    op.add_column("portfolio_clock", sa.Column("credentials", sa.BigInteger, nullable=False, server_default="0"))
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER api_tokens_credentials ON api_tokens")
        op.execute("DROP FUNCTION credentials_clock_tick()")
    else:
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER api_tokens_credentials_{name}")
    with op.batch_alter_table("portfolio_clock") as batch:
        batch.drop_column("credentials")
