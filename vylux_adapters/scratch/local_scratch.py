"""LocalScratchSpace: per-attempt directories under VYLUX_SCRATCH_DIR."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from vylux_core.errors import StorageUnavailable

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class LocalScratchSpace:
    """``root`` None means the system temp directory (the container sets
    ``/var/cache/vylux``). ``margin_bytes`` stays free for everything else."""

    def __init__(self, *, root: Path | None = None, margin_bytes: int = 512 << 20) -> None:
        self._root = root
        self._margin = margin_bytes

    @asynccontextmanager
    async def task_directory(self, job_id: str, *, needed_bytes: int = 0) -> AsyncIterator[Path]:
        root = self._root or Path(tempfile.gettempdir())
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        free = (await asyncio.to_thread(shutil.disk_usage, root)).free
        if needed_bytes and free < needed_bytes + self._margin:
            raise StorageUnavailable(
                f"scratch space: {free} bytes free, {needed_bytes + self._margin} needed"
            )
        prefix = f"vylux-{_SAFE.sub('_', job_id)[:64]}-"
        directory = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=prefix, dir=root))
        try:
            yield directory
        finally:
            # Shielded: a cancelled attempt must still not leave gigabytes behind.
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, directory, True))
