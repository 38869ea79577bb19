"""The S3 adapter's one crossing from the event loop to threads, with a bound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BoundedThreads:
    """Runs blocking boto3 calls in threads, at most ``limit`` at a time.

    The bound protects the connection pool and the server; callers past it wait on
    the loop, not in a thread. A cancelled caller gives its slot back at once while
    its thread finishes the one call it is in (botocore timeouts bound that).
    """

    def __init__(self, *, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._slots = asyncio.Semaphore(limit)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._slots:
            return await asyncio.to_thread(fn, *args, **kwargs)
