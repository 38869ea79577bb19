"""Single-flight: concurrent identical requests share one computation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """The first caller for a key runs the work; callers arriving while it runs await
    the same result (or exception). Nothing is cached after it finishes.

    The work runs in its own task so that one impatient caller cancelling does not
    cancel it for everyone else.
    """

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        future = self._running.get(key)
        if future is None:
            future = asyncio.ensure_future(work())
            self._running[key] = future
            future.add_done_callback(lambda _: self._running.pop(key, None))
            # Mark a failure as seen even if every waiter was cancelled meanwhile.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(future)

    def __len__(self) -> int:
        return len(self._running)
