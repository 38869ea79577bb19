"""LocalScratchSpace: per-attempt directories under VYLUX_SCRATCH_DIR.

Each directory is ``flock``-ed by the process that created it for as long as its attempt
runs. The kernel drops that lock when the process dies, also on SIGKILL, so
:meth:`LocalScratchSpace.sweep_stale` can tell a killed worker's leftovers (unlocked)
from directories in use by any live process on the host (locked), without guessing from
ages or PIDs. A directory is only ever swept when it also holds the :data:`MARKER` file,
so a foreign directory in a shared root (the system temp directory by default) whose
name happens to fit the layout, such as ``mkdtemp(prefix="vylux-bench-")``, is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from vylux_core.errors import StorageUnavailable

_SAFE = re.compile(r"[^A-Za-z0-9_-]")
# What task_directory creates: the prefix below plus mkdtemp's 8 random characters.
# Nothing else in the root is ever swept.
_TASK_DIRECTORY = re.compile(r"vylux-[A-Za-z0-9_-]{1,64}-[a-z0-9_]{8}")
# Written into each task directory once it is locked. A process killed between mkdtemp
# and this file leaves an empty directory that no sweep removes: a few bytes, where
# trusting the name alone deleted other programs' directories.
MARKER = ".vylux-scratch"


class LocalScratchSpace:
    """``root`` None means the system temp directory (the container sets
    ``/var/cache/vylux``). ``margin_bytes`` stays free for everything else."""

    def __init__(self, *, root: Path | None = None, margin_bytes: int = 512 << 20) -> None:
        self._root = root
        self._margin = margin_bytes

    @property
    def root(self) -> Path:
        return self._root or Path(tempfile.gettempdir())

    @asynccontextmanager
    async def task_directory(self, job_id: str, *, needed_bytes: int = 0) -> AsyncIterator[Path]:
        root = self.root
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        free = (await asyncio.to_thread(shutil.disk_usage, root)).free
        if needed_bytes and free < needed_bytes + self._margin:
            raise StorageUnavailable(
                f"scratch space: {free} bytes free, {needed_bytes + self._margin} needed"
            )
        prefix = f"vylux-{_SAFE.sub('_', job_id)[:64]}-"
        directory, lock = await asyncio.to_thread(_create_locked, root, prefix)
        try:
            yield directory
        finally:
            # Shielded: a cancelled attempt must still not leave gigabytes behind.
            await asyncio.shield(asyncio.to_thread(_remove_and_unlock, directory, lock))

    async def sweep_stale(self) -> list[Path]:
        """Remove the task directories no live process holds (left by a killed worker);
        returns what was removed. Safe while other workers share the root."""
        return await asyncio.to_thread(_sweep, self.root)


def _create_locked(root: Path, prefix: str) -> tuple[Path, int]:
    while True:
        directory = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        try:
            lock = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue  # a sweep in another process removed it before we could lock it
        # Blocks only while such a sweep is removing it; then the directory is gone
        # (no links left) and we start over with a new one.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.fstat(lock).st_nlink > 0:
            try:
                (directory / MARKER).touch()
            except BaseException:
                _remove_and_unlock(directory, lock)
                raise
            return directory, lock
        os.close(lock)


def _remove_and_unlock(directory: Path, lock: int) -> None:
    try:
        _remove_marker_last(str(directory))
    finally:
        os.close(lock)  # after the removal, so no sweep ever sees it half-removed and unlocked


def _remove_marker_last(directory: str) -> None:
    """Remove ``directory``, its marker after everything else in it.

    A worker killed half-way through removing a task directory (the crash test froze
    one there) otherwise left it unmarked: rmtree had taken the marker first, and no
    sweep touches an unmarked directory. Marker last, what is left stays sweepable.
    """
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(directory, MARKER))
    with contextlib.suppress(OSError):  # not empty: something wrote into it meanwhile
        os.rmdir(directory)


def _sweep(root: Path) -> list[Path]:
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        if not _TASK_DIRECTORY.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        if not _has_marker(entry.path):
            continue  # not one of ours, whatever its name says
        try:
            lock = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # an attempt of a live process
            _remove_marker_last(entry.path)
            if os.path.lexists(entry.path):
                # Something still wrote into it while it was removed (a tool of the
                # dead worker, say): marked again, so that a later sweep takes the rest.
                _mark(entry.path)
                continue
            removed.append(Path(entry.path))
        finally:
            os.close(lock)
    return removed


def _mark(directory: str) -> None:
    with contextlib.suppress(OSError):
        Path(directory, MARKER).touch()


def _has_marker(directory: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(os.path.join(directory, MARKER)).st_mode)
    except OSError:
        return False
