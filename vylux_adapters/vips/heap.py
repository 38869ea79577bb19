"""Handing freed heap memory back to the kernel after large renders (glibc only).

Decoding a large source allocates many medium-sized blocks in the malloc arenas of
the libvips threads. glibc keeps freed blocks for reuse and returns only the top of
each heap to the kernel, so after a burst of large renders the idle process stays
hundreds of MiB larger than it needs to be. ``malloc_trim(0)`` walks every arena and
releases its free pages. It takes milliseconds on a large heap, so it runs only
after a render of a large source, in the render's own worker thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable

# Sources at least this large trigger a trim after their render (refused or not).
TRIM_AFTER_SOURCE_BYTES = 4 << 20


def _malloc_trim() -> Callable[[int], int] | None:
    if platform.libc_ver()[0] != "glibc":
        return None  # musl and others: no malloc_trim, nothing to do
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release_free_heap() -> None:
    """Return free pages of every malloc arena to the kernel (no-op off glibc)."""
    if _TRIM is not None:
        _TRIM(0)
