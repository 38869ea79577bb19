"""Handing freed heap memory back to the kernel after large renders (glibc only).

Decoding a large source allocates many medium-sized blocks in the malloc arenas of
the libvips threads. glibc keeps freed blocks for reuse and returns only the top of
each heap to the kernel, so after a burst of large renders the idle process stays
hundreds of MiB larger than it needs to be. ``malloc_trim(0)`` walks every arena and
releases its free pages. It takes milliseconds on a large heap, and the pages it
releases must be faulted in again by the next render that needs them, so it runs
only when the last of the overlapping renders of large sources is done
(:class:`IdleTrim`): under steady load the next render reuses the freed blocks, and
the process still shrinks once the load stops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
from collections.abc import Callable

# Renders of sources at least this large are counted by IdleTrim (refused or not).
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


class IdleTrim:
    """Counts renders of large sources in flight and trims the heap when the count
    falls back to zero. ``started`` and ``finished`` may be called from any thread."""

    def __init__(self, trim: Callable[[], None] = release_free_heap) -> None:
        self._trim = trim
        self._lock = threading.Lock()
        self._in_flight = 0

    def started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            idle = self._in_flight == 0
        if idle:
            # Outside the lock: a render starting meanwhile only means one trim too many.
            self._trim()
