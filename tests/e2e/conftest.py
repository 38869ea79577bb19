"""Fixtures of the HTTP end-to-end tests: a fresh :class:`World` per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.http_world import World, WorldFactory, memory_world
from tests.e2e.real_world import RealBackends
from tests.support.seaweedfs import S3Server
from vylux_adapters.s3 import S3Clients


@pytest.fixture
def make_world() -> WorldFactory:
    """How worlds are built; override it to run the same tests on other adapters."""
    return memory_world


@pytest.fixture
def real_backends(postgres_url: str, s3_server: S3Server, s3_clients: S3Clients) -> RealBackends:
    """The session's PostgreSQL and SeaweedFS (Redis is reached per world); a module
    runs on them with ``make_world`` returning ``real_backends.world``."""
    return RealBackends(postgres_url=postgres_url, s3_server=s3_server, s3_clients=s3_clients)


@pytest.fixture
async def world(make_world: WorldFactory) -> AsyncIterator[World]:
    async with make_world() as built:
        yield built


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment of a local-mode service: its data under ``tmp_path/data``, no
    external database, queue or encryption key, no stray .env files from the repository.
    Tests set their own variables on the returned patch."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VYLUX_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch
