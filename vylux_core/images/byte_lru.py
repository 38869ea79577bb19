"""Process-local least-recently-used cache of byte strings, bounded by their total size."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sized
from typing import Generic, TypeVar

V = TypeVar("V", bound=Sized)


class ByteLRU(Generic[V]):
    """An LRU map from ``str`` keys to ``bytes`` whose values total at most ``max_bytes``.

    Values are ``bytes`` or anything whose ``len()`` is its size in bytes, so a value
    can carry what was derived from its bytes (the image service keeps each
    rendition's ETag with it rather than hashing the body on every hit).

    Semantics: :meth:`get` promotes an entry to most recently used;
    :meth:`put` evicts least recently used entries until the new value fits; a value larger
    than the whole budget is not stored; replacing a key updates the byte count; a budget
    ``<= 0`` disables the cache (every lookup misses, nothing is stored).

    Thread-safe: the HTTP server may call it from worker threads (image processing runs in
    an executor), so every operation holds one lock. Operations are O(1) apart from
    eviction, and nothing slow happens under the lock.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        # Insertion order is recency order: the first entry is the least recently used.
        self._entries: OrderedDict[str, V] = OrderedDict()
        self._size_bytes = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"ByteLRU(entries={len(self._entries)}, size_bytes={self._size_bytes},"
                f" max_bytes={self._max_bytes})"
            )

    @property
    def max_bytes(self) -> int:
        """The byte budget given at construction (``<= 0`` means disabled)."""
        return self._max_bytes

    @property
    def size_bytes(self) -> int:
        """Total length of all stored values."""
        with self._lock:
            return self._size_bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> V | None:
        """Return the value for ``key`` and mark it most recently used, or None on a miss."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        """Store ``value`` under ``key`` as most recently used, evicting as needed.

        A value that cannot fit even in an empty cache is not stored, and any older value
        under ``key`` is dropped too: serving that stale value later would be wrong.
        """
        size = len(value)
        with self._lock:
            self._remove(key)
            if self._max_bytes <= 0 or size > self._max_bytes:
                return
            while self._size_bytes + size > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size_bytes -= len(evicted)
            self._entries[key] = value
            self._size_bytes += size

    def discard(self, key: str) -> bool:
        """Remove ``key``; True if it was present, False otherwise (never raises)."""
        with self._lock:
            return self._remove(key)

    def _remove(self, key: str) -> bool:
        # Caller holds the lock.
        old = self._entries.pop(key, None)
        if old is None:
            return False
        self._size_bytes -= len(old)
        return True
