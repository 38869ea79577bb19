"""Fixtures of the HTTP end-to-end tests: a fresh :class:`World` per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.http_world import World, WorldFactory, memory_world


@pytest.fixture
def make_world() -> WorldFactory:
    """How worlds are built; override it to run the same tests on other adapters."""
    return memory_world


@pytest.fixture
async def world(make_world: WorldFactory) -> AsyncIterator[World]:
    async with make_world() as built:
        yield built
