"""Running the alembic migrations, safely from several processes at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from vylux_adapters.file_lock import exclusive_file_lock
from vylux_adapters.sql.database import sync_url
from vylux_adapters.sql.errors import database_errors

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every Vylux process.
_ADVISORY_LOCK_KEY = 0x5679_6C75_78
# Alembic's default name, which the migrations environment keeps.
_VERSION_TABLE = "alembic_version"


def _alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is there already.

    Replicas starting together serialise on a lock (PostgreSQL advisory lock, or a
    lock file beside the SQLite database), so exactly one of them migrates.
    """
    with _migration_connection(database_url) as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(database_url: str, revision: str) -> None:
    with _migration_connection(database_url) as connection:
        command.downgrade(_alembic_config(connection), revision)


def current_revision(database_url: str) -> str | None:
    with _migration_connection(database_url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


async def upgrade_async(database_url: str) -> None:
    """:func:`upgrade` off the event loop (alembic is synchronous)."""
    await asyncio.to_thread(upgrade, database_url)


@contextmanager
def _migration_connection(database_url: str) -> Iterator[Connection]:
    url = sync_url(database_url)
    engine = create_engine(url)
    try:
        with database_errors("migrate"):
            if url.get_backend_name() == "sqlite":
                lock = Path(url.database or "").with_suffix(".migrate.lock")
                with exclusive_file_lock(lock), engine.begin() as connection:
                    yield connection
            else:
                with engine.begin() as connection:
                    # Held until this transaction commits: a second process waits here,
                    # then finds the schema at head and does nothing.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                    )
                    yield connection
    finally:
        engine.dispose()


async def schema_installed(engine: AsyncEngine) -> bool:
    """Whether the migrations have ever run on this database (alembic's version table
    exists): commands that do not migrate check this instead of failing on a table."""

    def has_version_table(connection: Connection) -> bool:
        return inspect(connection).has_table(_VERSION_TABLE)

    with database_errors("schema check"):
        async with engine.connect() as connection:
            return await connection.run_sync(has_version_table)
