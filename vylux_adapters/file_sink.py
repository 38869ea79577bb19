"""Writing a stream of chunks into a local file without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path


async def write_chunks(chunks: AsyncIterator[bytes], destination: Path) -> int:
    """Create (or truncate) ``destination`` and write ``chunks`` into it; returns the size.

    On any failure, cancellation included, the partial file is removed before the
    error propagates: a caller never finds half an object at ``destination``.
    """
    handle = await asyncio.to_thread(destination.open, "wb")
    size = 0
    try:
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
                size += len(chunk)
        finally:
            await asyncio.to_thread(handle.close)
    except BaseException:
        await asyncio.to_thread(destination.unlink, missing_ok=True)
        raise
    return size
