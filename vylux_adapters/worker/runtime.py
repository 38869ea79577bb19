"""WorkerRuntime: the pools and the background loops of one worker process, together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from vylux_adapters.worker.pool import WorkerPool

Loop = Callable[[], Coroutine[Any, Any, None]]


class WorkerRuntime:
    """Runs every pool until :meth:`stop`, with the loops (lease recovery, reconciling,
    webhook delivery) beside them; the loops stop after the pools have drained, so a
    task finishing during shutdown still gets its webhook queued and recovered."""

    def __init__(self, *, pools: Sequence[WorkerPool], loops: Sequence[Loop]) -> None:
        self._pools = list(pools)
        self._loops = list(loops)

    @property
    def running(self) -> int:
        """How many job attempts are running now."""
        return sum(pool.inflight for pool in self._pools)

    def stop(self) -> None:
        for pool in self._pools:
            pool.stop()

    def stop_now(self) -> None:
        """Stop, handing running attempts back to the queue instead of waiting."""
        for pool in self._pools:
            pool.stop_now()

    async def run(self) -> None:
        loops = [asyncio.create_task(loop()) for loop in self._loops]
        try:
            await asyncio.gather(*(pool.run() for pool in self._pools))
        finally:
            for task in loops:
                task.cancel()
            for task in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
