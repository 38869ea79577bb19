"""Delay before a failed task's next attempt."""

from __future__ import annotations

BASE_DELAY_SECONDS = 10.0
MAX_DELAY_SECONDS = 3600.0


def retry_delay_seconds(retried: int, jitter: float) -> float:
    """Exponential back-off, 10 s doubling per attempt, capped at one hour.

    ``retried`` is the number of attempts already failed (0 for the first failure);
    ``jitter`` in [0, 1) comes from the caller's random source and spreads retries of
    tasks that failed together (e.g. during an outage) by up to half the delay.
    """
    if retried < 0:
        raise ValueError("retried must not be negative")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be in [0, 1)")
    delay = min(BASE_DELAY_SECONDS * (2.0 ** min(retried, 20)), MAX_DELAY_SECONDS)
    return delay * (1.0 + 0.5 * jitter)
