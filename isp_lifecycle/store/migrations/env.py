"""Alembic environment for the store. Driven from code (``isp_lifecycle.store.engine``):
the caller passes an open connection in ``config.attributes["connection"]``."""

from alembic import context

from isp_lifecycle.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("run the store's migrations through `isp db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
