"""Opening the store: configuration, the engine (SQLite or PostgreSQL) and its schema.

``ISP_HOME`` (default ``~/.isp``) is the workspace; ``ISP_DATABASE_URL`` (default
``sqlite:///$ISP_HOME/isp.db``) names the database; both are read by ``settings``. An empty database gets the schema on
first use; an older one is left alone until ``isp db upgrade`` (a schema change is an
operator's decision, not a side effect of ``isp list``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import SQLAlchemyError

from .. import settings
from ..errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
# PostgreSQL connections per process: 10 kept, up to 10 more under load. The web service runs
# at most ``web.server.THREADS`` requests at once per worker, so none waits for a connection.
POOL_SIZE, POOL_OVERFLOW = 10, 10


def isp_home() -> Path:
    return settings.current().home


def database_url() -> str:
    """The configured store; the default SQLite file's folder is created on first use."""
    current = settings.current()
    if current.database_url_value is None:
        current.home.mkdir(parents=True, exist_ok=True)
    return current.database_url


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and write transactions that take the lock at
    BEGIN (``BEGIN IMMEDIATE``): otherwise two writers that both read first deadlock on upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            _sqlite_setup(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use the store at {safe_url(url)}: {_first_line(exc)}") from None
    return engine


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured ISP_DATABASE_URL"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Run the migrations up to ``revision``; return (revision before, revision after)."""
    from alembic import command

    try:
        before = current_revision(engine)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
        return before, current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot upgrade the store at {safe_url(str(engine.url))}: {_first_line(exc)}") from None


def ensure_schema(engine: Engine) -> None:
    """Create the schema in an empty database; refuse an older or unknown one with what to do."""
    try:
        tables = set(inspect(engine).get_table_names())
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store at {safe_url(str(engine.url))}: {_first_line(exc)}") from None
    head = head_revision()
    if current == head:
        return
    if current is None:
        if tables - {"alembic_version"}:
            raise StoreError(
                f"the database at {safe_url(str(engine.url))} holds tables but is not an isp store; "
                "point ISP_DATABASE_URL at an empty database"
            )
        upgrade(engine)
        return
    from alembic.script import ScriptDirectory

    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise StoreError(f"the store's schema is at revision {current}, older than this isp needs ({head}): run `isp db upgrade`")
    raise StoreError(f"the store's schema revision {current} is newer than this isp knows ({head}): upgrade isp-lifecycle")
