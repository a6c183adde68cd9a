"""Engines for SQLite (WAL, synchronous=FULL, foreign keys, BEGIN IMMEDIATE) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from creditflow.config import Settings


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(settings: Settings, *, pooled: bool = True) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings, pooled=pooled)
    kwargs: dict[str, Any] = {"pool_size": settings.db_pool_size, "max_overflow": 0, "pool_pre_ping": False}
    if not pooled:
        kwargs = {"poolclass": NullPool}
    return create_async_engine(url, **kwargs)


def _sqlite_engine(settings: Settings, *, pooled: bool) -> AsyncEngine:
    # One connection per process: SQLite has one writer at a time anyway, and queueing for the
    # connection in-process is far cheaper than SQLite's busy-wait back-off between our own requests.
    kwargs: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
    if not pooled:
        kwargs = {"poolclass": NullPool}
    engine = create_async_engine(settings.database_url, **kwargs)
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: a read-then-write transaction can then never fail to upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
