"""Blocking file operations of LocalDirObjectStore; each runs in a worker thread.

Every path below the root is reached one component at a time from a descriptor of
the root, each directory opened with ``O_NOFOLLOW``: a symlinked directory, or one
swapped in for a real directory mid-operation, is never entered, so nothing here
reads, writes or deletes outside the root. The only link ever followed is an
object's own name, once resolved and checked to land on a file below the root
(``_open_alias``). This needs the ``dir_fd`` functions of POSIX systems.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NoReturn

from vylux_adapters.local.layout import (
    META_DIRECTORY,
    PING_PREFIX,
    TEMP_PREFIX,
    ObjectLocation,
    key_segments,
    listed_segment,
)
from vylux_core.errors import InvalidInput, InvalidStorageKey, ObjectNotFound, StorageUnavailable
from vylux_core.ports.object_store import ByteRange

Writer = Callable[[BinaryIO], None]

# A concurrent delete can prune a directory between our mkdir and our write.
_CREATE_ATTEMPTS = 5
_MAX_META_BYTES = 64 * 1024
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO found in the root must not hang; fstat then refuses it.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NOFOLLOW on a symlink fails with ELOOP (EMLINK on FreeBSD).
_SYMLINK = frozenset({errno.ELOOP, errno.EMLINK})
# Where a path has no object: a component is missing, is not a directory, or is a link.
_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR}) | _SYMLINK


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


@contextlib.contextmanager
def _opened_root(root: Path) -> Iterator[int]:
    # Writes never create the root: a missing one usually is an unmounted volume,
    # and filling the mount point underneath would hide the outage.
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise StorageUnavailable("local store root directory is missing") from exc
    try:
        yield fd
    finally:
        os.close(fd)


def _walk(stack: contextlib.ExitStack, root_fd: int, names: Sequence[str]) -> int:
    """A descriptor (closed by ``stack``) of the real directory ``names`` leads to."""
    fd = root_fd
    for name in names:
        fd = os.open(name, _DIRECTORY, dir_fd=fd)
        stack.callback(os.close, fd)
    return fd


def _absent(exc: OSError) -> NoReturn:
    """Re-raise ``exc``, as ``FileNotFoundError`` if it means there is no object."""
    if exc.errno in _ABSENT:
        raise FileNotFoundError(errno.ENOENT, "no such object") from exc
    raise exc


def _conflict(key: str) -> InvalidStorageKey:
    return InvalidStorageKey(f"key conflicts with an existing object: {key}")


# --- reading ---------------------------------------------------------------------------------


def stat_object(root: Path, location: ObjectLocation) -> tuple[int, str | None]:
    with _opened_root(root) as root_fd:
        fd, info = _open_file(root, root_fd, location.segments)
        os.close(fd)
        return info.st_size, _read_meta(root_fd, location)


def open_object(
    root: Path, location: ObjectLocation, byte_range: ByteRange | None
) -> tuple[BinaryIO, int, int, str | None]:
    """The open file positioned at the range, the object size, the bytes to read, and
    the content type.

    Files are replaced, never rewritten, so the open file stays one version.
    """
    with _opened_root(root) as root_fd:
        fd, info = _open_file(root, root_fd, location.segments)
        handle = os.fdopen(fd, "rb")
        try:
            size = info.st_size
            length = size
            if byte_range is not None:
                start, end = byte_range.start, byte_range.end
                if start < 0 or (end is not None and end < start):
                    raise InvalidInput(f"invalid byte range {start}-{'' if end is None else end}")
                if start >= size:
                    raise InvalidInput("range starts past the end of the object")
                handle.seek(start)
                last = size - 1 if end is None else min(end, size - 1)
                length = last - start + 1
            return handle, size, length, _read_meta(root_fd, location)
        except BaseException:
            handle.close()
            raise


def _open_file(root: Path, root_fd: int, segments: Sequence[str]) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file ``segments`` names, following the last
    component only if it is an alias; ``FileNotFoundError`` if there is none."""
    with contextlib.ExitStack() as stack:
        try:
            directory = _walk(stack, root_fd, segments[:-1])
        except OSError as exc:
            _absent(exc)
        try:
            fd = os.open(segments[-1], _READ, dir_fd=directory)
        except OSError as exc:
            if exc.errno not in _SYMLINK:
                _absent(exc)
            fd = _open_alias(root, root_fd, segments)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # a directory, FIFO, device...
            raise FileNotFoundError(errno.ENOENT, "no such object")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _open_alias(root: Path, root_fd: int, segments: Sequence[str]) -> int:
    """Open what the symlink at ``segments`` resolves to, if that is a key's path."""
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, *segments))
    relative = os.path.relpath(target, real_root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise FileNotFoundError(errno.ENOENT, "symlink leads outside the root")
    try:
        # Refuses "." (the root itself) and reserved names such as the metadata tree.
        resolved = key_segments(relative.replace(os.sep, "/"))
    except InvalidStorageKey:
        raise FileNotFoundError(errno.ENOENT, "symlink to no object") from None
    # The resolved path has no links left; walking it with O_NOFOLLOW once more
    # makes sure none was swapped in since.
    with contextlib.ExitStack() as stack:
        try:
            return os.open(resolved[-1], _READ, dir_fd=_walk(stack, root_fd, resolved[:-1]))
        except OSError as exc:
            _absent(exc)


def _read_meta(root_fd: int, location: ObjectLocation) -> str | None:
    """The content type; a missing or unreadable sidecar only loses the type."""
    try:
        with contextlib.ExitStack() as stack:
            fd = os.open(
                location.meta_name, _READ, dir_fd=_walk(stack, root_fd, location.meta_directories)
            )
            stack.callback(os.close, fd)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            os.set_blocking(fd, True)
            meta = json.loads(os.read(fd, _MAX_META_BYTES))
    except (OSError, ValueError):
        return None
    content_type = meta.get("content_type") if isinstance(meta, dict) else None
    return content_type if isinstance(content_type, str) else None


# --- writing ---------------------------------------------------------------------------------


def write_object(root: Path, location: ObjectLocation, write: Writer, meta: dict[str, str]) -> None:
    """Replace the sidecar, then the object, each by rename: a reader sees old or new
    bytes, never half. Only the content type of a concurrent reader can be one
    write ahead of its bytes, for the instant between the two renames."""
    encoded_meta = json.dumps(meta, sort_keys=True).encode("utf-8")
    with _opened_root(root) as root_fd:
        try:
            with contextlib.ExitStack() as stack:
                # A file in the way of the object's directories is refused before
                # anything is written.
                _make_directories(stack, root_fd, location.directories, location.key)
            _write_file(
                root_fd,
                location.meta_directories,
                location.meta_name,
                write_bytes(encoded_meta),
                location.key,
            )
            try:
                _write_file(root_fd, location.directories, location.name, write, location.key)
            except InvalidStorageKey:
                _unlink(root_fd, location.meta_directories, location.meta_name)
                raise
        except BaseException:
            _prune(root_fd, location.directories, keep=0)
            _prune(root_fd, location.meta_directories, keep=1)
            raise


def _write_file(
    root_fd: int, directories: Sequence[str], name: str, write: Writer, key: str
) -> None:
    for attempt in range(_CREATE_ATTEMPTS):
        with contextlib.ExitStack() as stack:
            try:
                directory = _make_directories(stack, root_fd, directories, key)
                fd, temp = _create_temp(directory)
            except FileNotFoundError:
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
                continue  # a concurrent delete pruned a directory we just made
            try:
                with os.fdopen(fd, "wb") as handle:
                    write(handle)
                # No fsync: the contract is atomic visibility, not durability across
                # power loss. Everything Vylux writes is derived and a job re-run
                # rewrites it, and an fsync per HLS segment costs more than the encode
                # on a busy disk.
                _rename_into_place(directory, temp, name, key)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=directory)
                raise
            return


def _make_directories(
    stack: contextlib.ExitStack, root_fd: int, names: Sequence[str], key: str
) -> int:
    """A descriptor of the directory ``names`` leads to, made as needed; a file or a
    symlink where a directory should be is a conflict with ``key``."""
    fd = root_fd
    for depth, name in enumerate(names):
        try:
            fd = _open_or_make_directory(fd, name)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, *_SYMLINK):
                raise
            if depth == 0 and name == META_DIRECTORY:  # not a key's conflict but ours
                raise StorageUnavailable(
                    f"local store {META_DIRECTORY} is not a directory"
                ) from exc
            raise _conflict(key) from exc
        stack.callback(os.close, fd)
    return fd


def _open_or_make_directory(parent: int, name: str) -> int:
    try:
        return os.open(name, _DIRECTORY, dir_fd=parent)
    except FileNotFoundError:
        pass
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, dir_fd=parent)
    return os.open(name, _DIRECTORY, dir_fd=parent)


def _create_temp(directory: int) -> tuple[int, str]:
    # Not mkstemp: its files are 0o600, and objects are files a static server may
    # serve. These get the mode of any new file (0o666 less the umask).
    for _ in range(100):
        name = TEMP_PREFIX + secrets.token_hex(8)
        try:
            return os.open(name, _CREATE, 0o666, dir_fd=directory), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name")


def _rename_into_place(directory: int, temp: str, name: str, key: str) -> None:
    """Rename ``temp`` over ``name`` (a symlink there is replaced, not followed)."""
    for _ in range(2):
        try:
            os.replace(temp, name, src_dir_fd=directory, dst_dir_fd=directory)
            return
        except IsADirectoryError:
            pass
        # A directory holds the name: a leftover if empty, else keys live below it.
        try:
            os.rmdir(name, dir_fd=directory)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise _conflict(key) from exc
            raise
    raise _conflict(key)


def write_bytes(data: bytes) -> Writer:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


def copy_from(source: BinaryIO) -> Writer:
    def write(handle: BinaryIO) -> None:
        shutil.copyfileobj(source, handle, 1024 * 1024)

    return write


# --- deleting --------------------------------------------------------------------------------


def delete_objects(root: Path, doomed: Sequence[ObjectLocation]) -> int:
    """Delete each object; returns how many existed."""
    with _opened_root(root) as root_fd:
        return sum(_delete(root_fd, location) for location in doomed)


def _delete(root_fd: int, location: ObjectLocation) -> bool:
    """Remove the file and its sidecar, then empty directories; True if the file existed."""
    existed = _unlink(root_fd, location.directories, location.name)
    _unlink(root_fd, location.meta_directories, location.meta_name)
    _prune(root_fd, location.directories, keep=0)
    _prune(root_fd, location.meta_directories, keep=1)
    return existed


def _unlink(root_fd: int, directories: Sequence[str], name: str) -> bool:
    """Remove the file (a symlink itself, never its target) ``name``; True if there was one."""
    with contextlib.ExitStack() as stack:
        try:
            directory = _walk(stack, root_fd, directories)
            if stat.S_ISDIR(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode):
                return False  # a directory is no object
            os.unlink(name, dir_fd=directory)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return False
            raise
    return True


def _prune(root_fd: int, names: Sequence[str], *, keep: int) -> None:
    """Remove the empty directories along ``names`` below the root, deepest first,
    but never the first ``keep`` of them."""
    with contextlib.ExitStack() as stack:
        parents = [root_fd]  # parents[i] holds names[i]
        for name in names[:-1]:
            try:
                fd = os.open(name, _DIRECTORY, dir_fd=parents[-1])
            except OSError:
                break
            stack.callback(os.close, fd)
            parents.append(fd)
        for depth in range(min(len(parents), len(names)) - 1, keep - 1, -1):
            try:
                os.rmdir(names[depth], dir_fd=parents[depth])
            except FileNotFoundError:
                continue
            except OSError:
                return  # not empty (or not a directory): a concurrent writer keeps it


# --- listing, ping ---------------------------------------------------------------------------


def scan(root: Path, directories: Sequence[str]) -> list[tuple[str, bool]]:
    """(key segment, is a directory) for the entries of a directory, in key order.

    A directory sorts as its segment plus ``/``, which is where its keys fall among
    its siblings: ``a-b`` < ``a/x`` < ``a0``. Reserved names, names that are not
    key segments, symlinked directories and links that are no alias are left out.
    """
    found: list[tuple[str, bool]] = []
    with _opened_root(root) as root_fd, contextlib.ExitStack() as stack:
        try:
            directory = _walk(stack, root_fd, directories)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return []  # gone, or never there: no keys
            raise
        with os.scandir(directory) as entries:
            for entry in entries:
                segment = listed_segment(entry.name)
                if segment is None:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    found.append((segment, True))
                elif entry.is_file(follow_symlinks=False) or (
                    entry.is_symlink() and _is_alias(root, root_fd, [*directories, segment])
                ):
                    found.append((segment, False))
    return sorted(found, key=lambda item: item[0] + "/" if item[1] else item[0])


def _is_alias(root: Path, root_fd: int, segments: Sequence[str]) -> bool:
    try:
        fd, _ = _open_file(root, root_fd, segments)
    except OSError:
        return False
    os.close(fd)
    return True


def probe_writable(root: Path) -> None:
    with _opened_root(root) as root_fd:
        name = PING_PREFIX + secrets.token_hex(8)
        os.close(os.open(name, _CREATE, 0o600, dir_fd=root_fd))
        os.unlink(name, dir_fd=root_fd)
