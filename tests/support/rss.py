"""Measuring how much a block of code grows the process's resident memory (Linux)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from pathlib import Path
from types import TracebackType

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def status_bytes(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"{field} not in {STATUS}")


def reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ≥ 4.0); False where not allowed."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def release_free_memory() -> None:
    """Collect garbage and hand glibc's free heap pages back to the kernel.

    Otherwise memory freed by an earlier step (an upload's part buffers) is reused
    silently, and the growth of the measured step reads lower than it is.
    """
    gc.collect()
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    trim = getattr(ctypes.CDLL(libc_name), "malloc_trim", None)
    if trim is not None:
        trim(0)


class RssGrowth:
    """Peak RSS minus RSS at entry, over the ``with`` block.

    The kernel's high-water mark catches peaks between samples once it is reset;
    where it cannot be reset, ``sample()`` calls (e.g. per chunk) give the peak.
    """

    def __init__(self) -> None:
        self.baseline = 0
        self.peak = 0
        self._kernel_peak = False

    def __enter__(self) -> RssGrowth:
        release_free_memory()
        self._kernel_peak = reset_peak()
        self.baseline = status_bytes("VmRSS")
        self.peak = self.baseline
        return self

    def sample(self) -> None:
        self.peak = max(self.peak, status_bytes("VmRSS"))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sample()
        if self._kernel_peak:
            self.peak = max(self.peak, status_bytes("VmHWM"))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline
