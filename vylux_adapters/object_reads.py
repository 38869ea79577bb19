"""What the streaming object stores (local files, S3) do alike with an opened object:
each takes the reader ``open`` returned and closes it, however it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from vylux_adapters.file_sink import write_chunks
from vylux_core.errors import SourceTooLarge
from vylux_core.ports.object_store import ObjectReader


class WholeObjectReader(ObjectReader, Protocol):
    async def read_all(self) -> bytes:
        """The rest of the object in one read: for objects whose size was checked."""
        ...


async def read_capped(reader: WholeObjectReader, max_bytes: int) -> bytes:
    """The whole object; ``SourceTooLarge`` before a byte is read when its size is over
    ``max_bytes``."""
    try:
        if reader.info.size > max_bytes:
            raise SourceTooLarge(max_bytes)
        return await reader.read_all()
    finally:
        await reader.aclose()


async def download_to(reader: ObjectReader, destination: Path) -> int:
    """Writes the object to ``destination``; returns its size."""
    try:
        return await write_chunks(reader.chunks(), destination)
    finally:
        await reader.aclose()
