"""Fixtures shared by every port contract suite."""

from __future__ import annotations

import pytest

from vylux_adapters.memory import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """The one clock of a test: handed to the adapter factory, moved with ``advance``.

    It starts on 2026-01-01T00:00:00Z, which is aligned to every whole-minute window.
    """
    return ManualClock()
