"""S3ObjectReader: an open GET response, read in bounded chunks in threads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vylux_adapters.s3.errors import s3_errors
from vylux_adapters.s3.threads import BoundedThreads
from vylux_core.ports.object_store import ObjectInfo

if TYPE_CHECKING:
    from botocore.response import StreamingBody


class S3ObjectReader:
    """Holds one pooled connection until ``aclose``; only one chunk is in memory at a time."""

    def __init__(
        self,
        *,
        info: ObjectInfo,
        body: StreamingBody,
        threads: BoundedThreads,
        bucket: str,
        chunk_size: int,
    ) -> None:
        self._info = info
        self._body = body
        self._threads = threads
        self._bucket = bucket
        self._chunk_size = chunk_size
        self._closed = False

    @property
    def info(self) -> ObjectInfo:
        return self._info

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            with s3_errors("read", self._bucket, self._info.key):
                chunk = await self._threads.run(self._body.read, self._chunk_size)
            if not chunk:
                return
            yield chunk

    async def readinto(self, buffer: memoryview) -> int:
        # One thread hop for the whole buffer rather than one per chunk.
        with s3_errors("read", self._bucket, self._info.key):
            return await self._threads.run(_fill, self._body, buffer, self._chunk_size)

    async def read_all(self) -> bytes:
        """The rest of the body in one call: for objects whose size was checked."""
        with s3_errors("read", self._bucket, self._info.key):
            return await self._threads.run(self._body.read)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Closing an unfinished body drops its connection instead of draining it.
        await self._threads.run(self._body.close)


def _fill(body: StreamingBody, buffer: memoryview, chunk_size: int) -> int:
    filled = 0
    while filled < len(buffer):
        chunk = body.read(min(chunk_size, len(buffer) - filled))
        if not chunk:
            break
        buffer[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled
