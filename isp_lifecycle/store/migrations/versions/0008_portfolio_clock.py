"""The portfolio clock: a counter that moves whenever any partnership row is written, and a
log of which partnership each tick wrote.

The service keeps a snapshot of the portfolio in memory and asks, before each read, whether
anything changed. It used to ask with ``count(*)`` and ``sum(row_version)`` over every
partnership (a scan of the table per request), and on a change read every partnership's
``row_version`` to find which. Now it reads one row, and on a change the log's entries after
the tick it knows. Triggers do the writing, so every writer is counted: the services, bulk
import, a restore, a script's SQL.

Ticks have no gaps (a rolled-back write takes its tick back), so a reader that finds the
tick after its own missing from the log (pruned: the log keeps ``RETAINED`` ticks) knows to
read everything again.

On PostgreSQL the trigger is a deferred constraint trigger: it runs at commit, after every
other lock the transaction takes (the audit log's head included), so the clock's row lock is
always the last one taken and held only for the commit, and two writers of different
partnerships cannot deadlock on it. A transaction takes one tick however many rows it
writes, and ticks follow the order of commits. SQLite has one writer at a time and no
deferred triggers: a tick per row written.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RETAINED = 10_000  # ticks the log keeps (a reader further behind reads every partnership)

POSTGRESQL = [
    f"""CREATE FUNCTION portfolio_clock_tick() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        this_tick bigint;
    BEGIN
        IF current_setting('isp.portfolio_tx', true) IS DISTINCT FROM txid_current()::text THEN
            UPDATE portfolio_clock SET ticks = ticks + 1 WHERE id = 1 RETURNING ticks INTO this_tick;
            DELETE FROM portfolio_changes WHERE tick <= this_tick - {RETAINED};
            PERFORM set_config('isp.portfolio_tx', txid_current()::text, true);
            PERFORM set_config('isp.portfolio_tick', this_tick::text, true);
        ELSE
            this_tick := current_setting('isp.portfolio_tick')::bigint;
        END IF;
        INSERT INTO portfolio_changes (tick, partnership_id)
            VALUES (this_tick, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
        RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER partnerships_tick AFTER INSERT OR UPDATE OR DELETE ON partnerships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portfolio_clock_tick()""",
]
SQLITE = [f"""CREATE TRIGGER partnerships_tick_{event.lower()} AFTER {event} ON partnerships BEGIN
        UPDATE portfolio_clock SET ticks = ticks + 1 WHERE id = 1;
        INSERT INTO portfolio_changes (tick, partnership_id) SELECT ticks, {row}.id FROM portfolio_clock WHERE id = 1;
        DELETE FROM portfolio_changes WHERE tick <= (SELECT ticks FROM portfolio_clock WHERE id = 1) - {RETAINED};
    END""" for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))]


def upgrade() -> None:
    op.create_table(
        "portfolio_clock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
        sa.Column("ticks", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO portfolio_clock (id, ticks) VALUES (1, 0)")
    op.create_table(
        "portfolio_changes",
        sa.Column("tick", sa.BigInteger, nullable=False),
        sa.Column("partnership_id", sa.String(63), nullable=False),  # no foreign key: deletions are logged too
    )
    op.create_index("ix_portfolio_changes_tick", "portfolio_changes", ["tick"])
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER partnerships_tick ON partnerships")
        op.execute("DROP FUNCTION portfolio_clock_tick()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER partnerships_tick_{event}")
    op.drop_index("ix_portfolio_changes_tick", table_name="portfolio_changes")
    op.drop_table("portfolio_changes")
    op.drop_table("portfolio_clock")
