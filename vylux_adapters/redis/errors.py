"""Translating Redis client failures into core errors at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions

from vylux_core.errors import QueueUnavailable

# Outages, not bugs: the server is unreachable, loading, read-only after a failover,
# or the cluster is resharding. Script errors and wrong types are left alone.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    exceptions.ConnectionError,  # includes BusyLoadingError and AuthenticationError
    exceptions.TimeoutError,
    exceptions.ReadOnlyError,
    exceptions.ClusterDownError,
    exceptions.TryAgainError,
    OSError,
)


@contextmanager
def queue_errors(operation: str) -> Iterator[None]:
    """Re-raise connection-level failures as ``QueueUnavailable``.

    The message names the operation only: client texts can carry host names, and a
    URL can carry a password.
    """
    try:
        yield
    except _UNAVAILABLE as error:
        raise QueueUnavailable(f"task queue unavailable during {operation}") from error
