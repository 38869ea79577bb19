"""Opening the database: URL normalisation and engine set-up for both dialects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def async_url(database_url: str) -> URL:
    """``postgres(ql)://`` -> psycopg 3; ``sqlite:///`` -> aiosqlite."""
    url = make_url(database_url)
    if url.drivername in ("postgres", "postgresql", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername in ("sqlite", "sqlite+aiosqlite"):
        return url.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme: {url.drivername}")


def sync_url(database_url: str) -> URL:
    """The same database for synchronous use (migrations run in a thread)."""
    url = async_url(database_url)
    return url.set(drivername="sqlite" if url.drivername.startswith("sqlite") else url.drivername)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = async_url(database_url)
    if url.drivername.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # No pre-ping (a round trip per transaction): a dropped connection fails its one
    # transaction, is invalidated, and pool_recycle retires idle ones server-side closes.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is turned off so that _begin_immediate decides.
    dbapi_connection.isolation_level = None
    # WAL lets readers run beside the one writer; the busy timeout makes writers from
    # several processes (server + worker) queue instead of failing with "locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Every transaction takes the write lock up front. A deferred transaction that reads
    # and then writes can fail with SQLITE_BUSY at the upgrade, which busy_timeout does
    # not cover; serialising writers is what SQLite does anyway.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
