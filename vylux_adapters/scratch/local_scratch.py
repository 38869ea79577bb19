"""LocalScratchSpace: per-attempt directories under VYLUX_SCRATCH_DIR.

Each directory is ``flock``-ed by the process that created it for as long as its attempt
runs. The kernel drops that lock when the process dies, also on SIGKILL, so
:meth:`LocalScratchSpace.sweep_stale` can tell a killed worker's leftovers (unlocked)
from directories in use by any live process on the host (locked), without guessing from
ages or PIDs. A directory is only ever swept when it also holds the :data:`MARKER` file,
so a foreign directory in a shared root (the system temp directory by default) whose
name happens to fit the layout, such as ``mkdtemp(prefix="vylux-bench-")``, is left alone.

Directories are made and deleted inside :data:`STAGING` (``.vylux-staging`` in the root,
where everything is a worker's) and renamed into and out of place, so that a worker
killed in the middle of either leaves something a sweep recognises.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import re
import secrets
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
# trusting the name alone would delete other programs' directories.
MARKER = ".vylux-scratch"
# Where task directories are made and deleted; everything in it belongs to a worker.
STAGING = ".vylux-staging"
_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"


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
    staging = root / STAGING
    staging.mkdir(exist_ok=True)
    while True:
        # Made, locked and marked under STAGING, whose entries are all ours, then put in
        # place by a rename: a worker killed at any point before leaves its directory
        # in STAGING, where a sweep takes it. Made in place, a kill between mkdtemp and
        # the marker would leave an unmarked directory no sweep touches.
        work = Path(tempfile.mkdtemp(dir=staging))
        try:
            lock = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue  # a sweep in another process removed it before we could lock it
        # Blocks only while such a sweep is removing it; then the directory is gone
        # (no links left) and we start over with a new one.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.fstat(lock).st_nlink == 0:
            os.close(lock)
            continue
        try:
            (work / MARKER).touch()
            return _put_in_place(work, root, prefix), lock
        except BaseException:
            _remove_and_unlock(work, lock)
            raise


def _put_in_place(work: Path, root: Path, prefix: str) -> Path:
    while True:
        directory = root / f"{prefix}{_random_suffix()}"
        if os.path.lexists(directory):
            continue
        try:
            os.rename(work, directory)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                continue  # the name was taken meanwhile
            raise
        return directory


def _random_suffix() -> str:
    # mkdtemp's alphabet and length, which _TASK_DIRECTORY expects.
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(8))


def _remove_and_unlock(directory: Path, lock: int) -> None:
    try:
        _remove(str(directory), str(directory.parent))
    finally:
        os.close(lock)  # after the removal, so no sweep ever sees it half-removed and unlocked


def _remove(directory: str, root: str) -> None:
    """Move ``directory`` into STAGING, then delete it there.

    Killed half-way through the deletion (the crash test froze a worker there), a
    worker leaves the rest in STAGING, where the next sweep finds it; deleting in place
    could take the marker first and leave an unmarked remainder no sweep touches.
    """
    staging = os.path.join(root, STAGING)
    if os.path.dirname(directory) != staging:
        doomed = os.path.join(staging, os.path.basename(directory))
        try:
            os.rename(directory, doomed)
        except FileNotFoundError:
            return
        except OSError:
            doomed = directory  # STAGING itself is gone or unusable: delete in place
        directory = doomed
    shutil.rmtree(directory, ignore_errors=True)


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
        if _remove_unless_locked(entry.path, str(root)):
            removed.append(Path(entry.path))
    # What a killed worker left half-made or half-deleted. Reported with the rest only
    # when it had been put in place (above); these never held an attempt's files.
    try:
        staged = list(os.scandir(root / STAGING))
    except FileNotFoundError:
        staged = []
    for entry in staged:
        if entry.is_dir(follow_symlinks=False):
            _remove_unless_locked(entry.path, str(root))
    return removed


def _remove_unless_locked(directory: str, root: str) -> bool:
    try:
        lock = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False  # gone meanwhile
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # an attempt of a live process
        _remove(directory, root)
        return True
    finally:
        os.close(lock)


def _has_marker(directory: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(os.path.join(directory, MARKER)).st_mode)
    except OSError:
        return False
