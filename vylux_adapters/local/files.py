"""Blocking file operations of LocalDirObjectStore; each runs in a worker thread."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from vylux_adapters.local.layout import ObjectPaths, listed_directory, listed_object
from vylux_core.errors import InvalidInput, ObjectNotFound, StorageUnavailable
from vylux_core.ports.object_store import ByteRange

Writer = Callable[[BinaryIO], None]

# A concurrent delete can prune a directory between our mkdir and our write.
_CREATE_ATTEMPTS = 5


@contextlib.contextmanager
def file_errors(operation: str, key: str | None = None) -> Iterator[None]:
    """Re-raise OS errors as core errors; a missing file of ``key`` is ``ObjectNotFound``.

    Messages name the operation only, not paths: they may reach HTTP clients.
    """
    try:
        yield
    except (FileNotFoundError, NotADirectoryError) as exc:
        if key is None:
            raise StorageUnavailable(f"local store {operation} failed: {exc.strerror}") from exc
        raise ObjectNotFound(f"object not found: {key}") from exc
    except OSError as exc:
        raise StorageUnavailable(f"local store {operation} failed: {exc.strerror}") from exc


def check_root(root: Path) -> None:
    # Writes never create the root: a missing one usually is an unmounted volume,
    # and filling the mount point underneath would hide the outage.
    if not root.is_dir():
        raise StorageUnavailable("local store root directory is missing")


def write_object(root: Path, paths: ObjectPaths, write: Writer, meta: dict[str, str]) -> None:
    """Replace the sidecar, then the data, each by rename: a reader sees old or new
    bytes, never half. Only the content type of a concurrent reader can be one
    write ahead of its bytes, for the instant between the two renames."""
    check_root(root)
    encoded_meta = json.dumps(meta, sort_keys=True).encode("utf-8")
    _replace(paths, paths.meta, write_bytes(encoded_meta))
    _replace(paths, paths.data, write)


def _replace(paths: ObjectPaths, target: Path, write: Writer) -> None:
    for attempt in range(_CREATE_ATTEMPTS):
        paths.directory.mkdir(parents=True, exist_ok=True)
        try:
            fd, temp_name = tempfile.mkstemp(dir=paths.directory, prefix=paths.temp_prefix)
            break
        except FileNotFoundError:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        # No fsync: the contract is atomic visibility, not durability across power
        # loss. Everything Vylux writes is derived and a job re-run rewrites it, and
        # an fsync per HLS segment costs more than the encode on a busy disk.
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes(data: bytes) -> Writer:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


def copy_from(source: BinaryIO) -> Writer:
    def write(handle: BinaryIO) -> None:
        shutil.copyfileobj(source, handle, 1024 * 1024)

    return write


def read_meta(paths: ObjectPaths) -> str | None:
    """The content type; a missing or unreadable sidecar only loses the type."""
    try:
        meta = json.loads(paths.meta.read_bytes())
    except (OSError, ValueError):
        return None
    content_type = meta.get("content_type") if isinstance(meta, dict) else None
    return content_type if isinstance(content_type, str) else None


def stat_object(root: Path, paths: ObjectPaths) -> tuple[int, str | None]:
    try:
        size = paths.data.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        check_root(root)
        raise
    return size, read_meta(paths)


def _open_data(root: Path, paths: ObjectPaths) -> BinaryIO:
    try:
        return paths.data.open("rb")
    except (FileNotFoundError, NotADirectoryError):
        # No root at all is an outage (an unmounted volume), not a missing object.
        check_root(root)
        raise


def open_object(
    root: Path, paths: ObjectPaths, byte_range: ByteRange | None
) -> tuple[BinaryIO, int, int]:
    """The open data file positioned at the range, the object size, and the bytes to read.

    Data files are replaced, never rewritten, so the open file stays one version.
    """
    handle = _open_data(root, paths)
    try:
        size = os.fstat(handle.fileno()).st_size
        if byte_range is None:
            return handle, size, size
        start, end = byte_range.start, byte_range.end
        if start < 0 or (end is not None and end < start):
            raise InvalidInput(f"invalid byte range {start}-{'' if end is None else end}")
        if start >= size:
            raise InvalidInput("range starts past the end of the object")
        handle.seek(start)
        last = size - 1 if end is None else min(end, size - 1)
        return handle, size, last - start + 1
    except BaseException:
        handle.close()
        raise


def delete_objects(root: Path, doomed: Sequence[ObjectPaths]) -> int:
    """Delete each object; returns how many existed."""
    check_root(root)
    return sum(delete_object(root, paths) for paths in doomed)


def delete_object(root: Path, paths: ObjectPaths) -> bool:
    """Remove the data and its sidecar, then empty parent directories; True if it existed."""
    try:
        paths.data.unlink()
    except FileNotFoundError:
        existed = False
    else:
        existed = True
    paths.meta.unlink(missing_ok=True)
    _prune(root, paths.directory)
    return existed


def _prune(root: Path, directory: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return  # not empty (or gone): a concurrent writer keeps it
        directory = directory.parent


def scan(directory: Path) -> list[tuple[str, bool]]:
    """(key segment, is a directory) for the entries of ``directory``, in key order.

    A directory sorts as its segment plus ``/``, which is where its keys fall among
    its siblings: ``a`` < ``a-b`` < ``a/x``.
    """
    found: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if "~" in entry.name:
                    segment = listed_object(entry.name)
                    if segment is not None and entry.is_file(follow_symlinks=False):
                        found.append((segment, False))
                elif entry.is_dir(follow_symlinks=False):
                    segment = listed_directory(entry.name)
                    if segment is not None:
                        found.append((segment, True))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda item: item[0] + "/" if item[1] else item[0])


def probe_writable(root: Path) -> None:
    check_root(root)
    fd, name = tempfile.mkstemp(dir=root, prefix="~ping-")
    os.close(fd)
    os.unlink(name)
