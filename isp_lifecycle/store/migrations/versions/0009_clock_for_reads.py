"""The clock for reads from memory: writes of a partnership's requests and evaluations are
logged against it, and a second hand, ``credentials``, moves when an API token is revoked,
re-dated or deleted.

The service answers reads from what it keeps in memory when the clock says it is current
(``docs/service.md``): the portfolio snapshot, each partnership's pending requests and
latest verdict, and the identities of tokens it checked. So that every writer counts (the
services, a restore, plain SQL), triggers log a write of ``approval_requests`` or
``gate_evaluations`` as a write of its partnership (one tick, as migration 0008 does for
the partnership's own row), and move ``credentials`` on a token's revocation, new expiry or
deletion. Using a token (its ``last_used_at``) moves nothing.

On PostgreSQL both are deferred constraint triggers, as in 0008: they run at commit, take
one tick per transaction (shared with the partnerships' trigger), and keep the clock's row
lock the last lock a transaction takes. SQLite moves the clock per row.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RETAINED = 10_000  # as 0008: ticks the log keeps
CHILDREN = ("approval_requests", "gate_evaluations")  # tables whose rows name a partnership

POSTGRESQL = [
    f"""CREATE FUNCTION portfolio_clock_tick_child() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        this_tick bigint;
        written text;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            written := OLD.partnership_id;
        ELSE
            written := NEW.partnership_id;
        END IF;
        IF current_setting('isp.portfolio_tx', true) IS DISTINCT FROM txid_current()::text THEN
            UPDATE portfolio_clock SET ticks = ticks + 1 WHERE id = 1 RETURNING ticks INTO this_tick;
            DELETE FROM portfolio_changes WHERE tick <= this_tick - {RETAINED};
            PERFORM set_config('isp.portfolio_tx', txid_current()::text, true);
            PERFORM set_config('isp.portfolio_tick', this_tick::text, true);
        ELSE
            this_tick := current_setting('isp.portfolio_tick')::bigint;
        END IF;
        INSERT INTO portfolio_changes (tick, partnership_id) VALUES (this_tick, written);
        RETURN NULL;
    END $$""",
    *(f"""CREATE CONSTRAINT TRIGGER {table}_tick AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portfolio_clock_tick_child()""" for table in CHILDREN),
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
SQLITE = [
    *(f"""CREATE TRIGGER {table}_tick_{event.lower()} AFTER {event} ON {table} BEGIN
        UPDATE portfolio_clock SET ticks = ticks + 1 WHERE id = 1;
        INSERT INTO portfolio_changes (tick, partnership_id) SELECT ticks, {row}.partnership_id FROM portfolio_clock
            WHERE id = 1;
        DELETE FROM portfolio_changes WHERE tick <= (SELECT ticks FROM portfolio_clock WHERE id = 1) - {RETAINED};
    END""" for table in CHILDREN for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))),
    *(f"""CREATE TRIGGER api_tokens_credentials_{name} AFTER {event} ON api_tokens BEGIN
        UPDATE portfolio_clock SET credentials = credentials + 1 WHERE id = 1;
    END""" for name, event in (("update", "UPDATE OF revoked_at, expires_at"), ("delete", "DELETE"))),
]


def upgrade() -> None:
    op.add_column("portfolio_clock", sa.Column("credentials", sa.BigInteger, nullable=False, server_default="0"))
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CHILDREN:
            op.execute(f"DROP TRIGGER {table}_tick ON {table}")
        op.execute("DROP TRIGGER api_tokens_credentials ON api_tokens")
        op.execute("DROP FUNCTION portfolio_clock_tick_child()")
        op.execute("DROP FUNCTION credentials_clock_tick()")
    else:
        for table in CHILDREN:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_tick_{event}")
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER api_tokens_credentials_{name}")
    with op.batch_alter_table("portfolio_clock") as batch:
        batch.drop_column("credentials")
