"""ManualClock: a Clock that moves only when told (or when something sleeps on it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        # Simulated time passes at once; yielding lets other tasks observe it.
        self.advance(seconds)
        await asyncio.sleep(0)
