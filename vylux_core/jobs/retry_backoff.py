"""How long to wait before trying again: a failed task's next attempt, a webhook's
next delivery."""

from __future__ import annotations

from attrs import frozen

# Past this many doublings every policy is at its ceiling; the cap keeps 2.0**n finite.
_MAX_DOUBLINGS = 30


@frozen(kw_only=True)
class Backoff:
    """Exponential back-off: ``first`` seconds, doubling per failed attempt, at most
    ``ceiling``; ``spread`` stretches a delay by up to that fraction of itself."""

    first: float
    ceiling: float
    spread: float = 0.0

    def delay(self, failed: int, jitter: float = 0.0) -> float:
        """The wait after ``failed`` failed attempts (0 for the first failure).

        ``jitter`` in [0, 1) comes from the caller's random source and spreads retries
        of work that failed together (e.g. during an outage).
        """
        if failed < 0:
            raise ValueError("failed must not be negative")
        if not 0.0 <= jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")
        delay = min(self.first * (2.0 ** min(failed, _MAX_DOUBLINGS)), self.ceiling)
        return delay * (1.0 + self.spread * jitter)


TASK_BACKOFF = Backoff(first=10.0, ceiling=3600.0, spread=0.5)
"""A failed task: 10 s doubling per attempt, capped at one hour, up to half again."""
