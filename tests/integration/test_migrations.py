"""The alembic migrations build exactly the declared schema, and undo it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.support.databases import POSTGRES_ADMIN_URL
from tests.support.services import service_unavailable
from vylux_adapters.sql import downgrade, sqlite_url, upgrade
from vylux_adapters.sql.database import sync_url
from vylux_adapters.sql.migrate import current_revision, head_revision
from vylux_adapters.sql.schema import metadata


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """An empty database ``vylux_migrate_<random>``, dropped afterwards."""
    name = f"vylux_migrate_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        service_unavailable("PostgreSQL", str(exc).strip().splitlines()[0])
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("fresh_postgres_url"))
    return sqlite_url(tmp_path / "fresh.db")


def schema_differences(database_url: str) -> list[Any]:
    """What alembic's autogenerate would change to reach ``schema.metadata``."""
    url = sync_url(database_url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            options = {
                "compare_type": True,
                # SQLite reflects a '' default back as "''", which alembic reports as a
                # change on every run; PostgreSQL reflects defaults faithfully.
                "compare_server_default": url.get_backend_name() == "postgresql",
            }
            context = MigrationContext.configure(connection, opts=options)
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def table_names(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_the_declared_schema_and_downgrade_removes_it(
    fresh_database_url: str,
) -> None:
    upgrade(fresh_database_url)

    assert current_revision(fresh_database_url) == head_revision()
    assert schema_differences(fresh_database_url) == []
    assert table_names(fresh_database_url) == set(metadata.tables) | {"alembic_version"}

    downgrade(fresh_database_url, "base")

    assert table_names(fresh_database_url) == {"alembic_version"}
    assert current_revision(fresh_database_url) is None

    upgrade(fresh_database_url)

    assert current_revision(fresh_database_url) == head_revision()
    assert schema_differences(fresh_database_url) == []


def test_task_queue_migration_downgrades_alone(fresh_database_url: str) -> None:
    upgrade(fresh_database_url, "0001")
    before_task_queue = table_names(fresh_database_url)
    upgrade(fresh_database_url)

    downgrade(fresh_database_url, "0001")

    assert current_revision(fresh_database_url) == "0001"
    assert table_names(fresh_database_url) == before_task_queue
    assert not before_task_queue & {"tasks", "task_queues"}
    upgrade(fresh_database_url)
    assert schema_differences(fresh_database_url) == []


def _insert_job(connection: Any, job_id: str, status: str) -> None:
    connection.execute(
        text(
            "INSERT INTO jobs (id, type, hash, source, options, request_fingerprint, status,"
            " created_at, updated_at) VALUES (:id, 'image:thumbnail', 'h', 's', '{}', 'fp',"
            " :status, :now, :now)"
        ),
        {"id": job_id, "status": status, "now": datetime.now(UTC)},
    )


def _statuses(database_url: str) -> dict[str, str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM jobs")).all()
            return {row.id: row.status for row in rows}
    finally:
        engine.dispose()


def test_canceled_migration_respells_old_rows_and_frees_their_fingerprint(
    fresh_database_url: str,
) -> None:
    """v1.x's `cancelled` rows become `canceled`; they and a live job share a fingerprint."""
    upgrade(fresh_database_url, "0003")
    engine = create_engine(sync_url(fresh_database_url))
    try:
        with engine.begin() as connection:
            _insert_job(connection, "old", "cancelled")
            _insert_job(connection, "live", "queued")
    finally:
        engine.dispose()

    upgrade(fresh_database_url)

    assert _statuses(fresh_database_url) == {"old": "canceled", "live": "queued"}
    engine = create_engine(sync_url(fresh_database_url))
    try:
        with engine.begin() as connection:
            _insert_job(connection, "newer", "canceled")  # canceled frees the fingerprint
    finally:
        engine.dispose()

    downgrade(fresh_database_url, "0003")

    assert _statuses(fresh_database_url) == {
        "old": "cancelled",
        "live": "queued",
        "newer": "cancelled",
    }
    upgrade(fresh_database_url)
    assert schema_differences(fresh_database_url) == []
