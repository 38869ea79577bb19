"""ByteBudget: an asyncio semaphore counted in bytes, for memory held by work in flight."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vylux_core.errors import Overloaded


class Reservation:
    """Bytes taken from a :class:`ByteBudget`; :meth:`release` gives them back once."""

    def __init__(self, budget: ByteBudget, size: int) -> None:
        self._budget = budget
        self.size = size
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._budget._give_back(self.size)


class ByteBudget:
    """At most ``capacity`` bytes reserved at once, across every caller of one process.

    A reservation that does not fit waits its turn, first come first served (a large
    one is not overtaken forever by small ones), for at most ``wait_seconds``; then
    it raises :class:`Overloaded`, whose ``retry_after_seconds`` is that wait rounded
    up. A reservation larger than the whole capacity takes the whole capacity: it
    runs alone rather than never. Single event loop; not thread-safe.
    """

    def __init__(self, capacity: int, *, wait_seconds: float) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1 byte")
        if wait_seconds < 0:
            raise ValueError("wait_seconds must not be negative")
        self._capacity = capacity
        self._available = capacity
        self._wait_seconds = wait_seconds
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def available(self) -> int:
        return self._available

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, size: int) -> Reservation:
        """Reserve ``size`` bytes, waiting for them if needed; raises ``Overloaded``.

        Cancelling the caller while it waits takes nothing from the budget.
        """
        size = min(max(size, 0), self._capacity)
        if not self._waiters and size <= self._available:
            self._available -= size
            return Reservation(self, size)
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, granted)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(self._wait_seconds):
                await asyncio.shield(granted)
        except BaseException as error:
            if granted.done() and not granted.cancelled():
                # Granted in the same instant as the timeout or cancellation: the
                # bytes were taken for us, so hand them back.
                self._give_back(size)
            else:
                granted.cancel()
                self._waiters.remove(entry)
                self._grant()  # a large head leaving may let smaller ones in
            if isinstance(error, TimeoutError):
                raise Overloaded(
                    "too many large images in flight, retry later",
                    retry_after_seconds=max(1, math.ceil(self._wait_seconds)),
                ) from None
            raise
        return Reservation(self, size)

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[Reservation]:
        """``acquire`` for the block; released however the block ends."""
        reservation = await self.acquire(size)
        try:
            yield reservation
        finally:
            reservation.release()

    def _give_back(self, size: int) -> None:
        self._available += size
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._available:
            size, granted = self._waiters.popleft()
            self._available -= size
            granted.set_result(None)
