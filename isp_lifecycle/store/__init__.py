"""The partnership store: the source of truth for documents, decisions and the audit chain.

``Store.open()`` connects to ``ISP_DATABASE_URL`` (SQLite by default) and makes sure the
schema is current; the use cases that act on it are in ``isp_lifecycle.services``.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from .engine import database_url, ensure_schema, isp_home, make_engine, upgrade

__all__ = ["Store", "database_url", "isp_home", "upgrade"]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open the store at ``url`` (default: the configured one), creating the schema if empty."""
        engine = make_engine(url)
        try:
            ensure_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
