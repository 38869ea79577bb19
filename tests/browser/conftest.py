"""One world (server, page server, two streams) for every browser test of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.world import World, build_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("browser"))
