"""The campaign database: any SQLAlchemy URL, SQLite by default.

SQLite needs three things to be safe with several worker processes: a busy
timeout (wait for a lock instead of failing), WAL (readers do not block the
writer) and ``BEGIN IMMEDIATE`` (take the write lock up front; a deferred
transaction that reads and then writes can fail at once if another process
wrote in between).  Foreign keys are off in SQLite unless asked for.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from actors.campaigns.models import Base
from actors.settings import DomainSettings


class Database:
    """An engine built on first use, the schema created once, and sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: DomainSettings) -> Database:
        """The database at ``DATABASE_URL`` (one per URL per process)."""
        return _database(settings.database_url)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = _make_engine(self.url)
                Base.metadata.create_all(self._engine)
            return self._engine

    def session(self) -> Session:
        """A new session; use it as a context manager, with ``session.begin()`` for writes."""
        return Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


@functools.cache
def _database(url: str) -> Database:
    return Database(url)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        # Leave transactions to SQLAlchemy's "begin" hook below, not the driver's guesses.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
