"""Real databases for tests: a throwaway PostgreSQL database per session, SQLite files.

Each test gets empty tables: the schema is migrated once per session and tables are
emptied before every test that asks for an engine.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.services import service_unavailable
from vylux_adapters.memory import ManualClock
from vylux_adapters.sql import create_engine, sqlite_url, upgrade
from vylux_adapters.sql.schema import metadata

T = TypeVar("T")
# How a contract suite builds one adapter for one test: from the test's clock, and the
# request through which it reaches the database fixtures.
StoreFactory = Callable[[ManualClock, pytest.FixtureRequest], AbstractAsyncContextManager[T]]

POSTGRES_ADMIN_URL = os.environ.get(
    "VYLUX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database ``vylux_test_<random>`` that is dropped at the end."""
    name = f"vylux_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that tests copy instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(sqlite_url(path))
    return path


@asynccontextmanager
async def emptied_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``database_url`` whose tables are empty at the start."""
    engine = create_engine(database_url, pool_size=30)
    try:
        async with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(text(f'DELETE FROM "{table.name}"'))
        yield engine
    finally:
        await engine.dispose()


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / f"vylux-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, target)
    return sqlite_url(target)


def database_url_for(request: pytest.FixtureRequest, dialect: str) -> str:
    """A migrated database of ``dialect`` ("sqlite" or "postgres") for one test."""
    if dialect == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    template: Path = request.getfixturevalue("sqlite_template")
    directory: Path = request.getfixturevalue("tmp_path")
    return sqlite_copy(template, directory)


def store_factories(
    memory: Callable[[ManualClock], T], sql: Callable[[AsyncEngine, ManualClock], T]
) -> list[Any]:
    """The ``pytest.param`` factories of a port kept in the database: its memory adapter,
    and its SQL adapter on empty SQLite and on empty PostgreSQL tables (marked)."""

    @asynccontextmanager
    async def in_memory(clock: ManualClock, _request: pytest.FixtureRequest) -> AsyncIterator[T]:
        yield memory(clock)

    def on(dialect: str) -> StoreFactory[T]:
        @asynccontextmanager
        async def factory(clock: ManualClock, request: pytest.FixtureRequest) -> AsyncIterator[T]:
            async with emptied_engine(database_url_for(request, dialect)) as engine:
                yield sql(engine, clock)

        return factory

    return [
        pytest.param(in_memory, id="memory"),
        pytest.param(on("sqlite"), id="sqlite"),
        pytest.param(on("postgres"), id="postgres", marks=pytest.mark.postgres),
    ]
