"""WriteBehind: background writes that never block a response and are never lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

logger = logging.getLogger(__name__)


class WriteBehind:
    """Runs best-effort writes (e.g. storing a rendition in the media cache) after the
    response, keeps a reference to each so none is garbage-collected mid-flight, and
    lets shutdown wait for them (:meth:`drain`) so a rendition is not lost on exit
    (D102)."""

    def __init__(self, *, max_pending: int = 1000) -> None:
        self._pending: set[asyncio.Task[None]] = set()
        self._max_pending = max_pending

    def submit(self, description: str, write: Awaitable[None]) -> bool:
        """Start ``write``; False (and the write is dropped) when too many are pending,
        which protects memory when the store is slow — the data can be recomputed."""
        if len(self._pending) >= self._max_pending:
            close = getattr(write, "close", None)
            if callable(close):
                close()  # an un-awaited coroutine would warn
            return False
        task = asyncio.ensure_future(self._guarded(description, write))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def drain(self, max_wait: float | None = None) -> int:
        """Wait for pending writes; returns how many were still running at the deadline."""
        if not self._pending:
            return 0
        _, still_running = await asyncio.wait(set(self._pending), timeout=max_wait)
        return len(still_running)

    def __len__(self) -> int:
        return len(self._pending)

    @staticmethod
    async def _guarded(description: str, write: Awaitable[None]) -> None:
        try:
            await write
        except Exception as error:  # best effort by design: logged, never raised
            logger.warning("background write failed (%s): %s", description, error)
