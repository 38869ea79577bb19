"""ReadinessService: are the dependencies this process needs reachable right now?"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

Probe = Callable[[], Awaitable[None]]
"""A cheap reachability check (``SELECT 1``, ``PING``, ``HeadBucket``); raises if down."""
FailureRecorder = Callable[[str], None]
"""Told the name of each failed check (the ``vylux_readiness_failures_total`` counter)."""


class ReadinessService:
    """Runs every probe concurrently under one deadline, so one slow check cannot
    starve the rest (D39)."""

    def __init__(
        self,
        *,
        probes: Mapping[str, Probe],
        timeout: float = 2.0,
        record_failure: FailureRecorder | None = None,
    ) -> None:
        self._probes = dict(probes)
        self._timeout = timeout
        self._record_failure = record_failure

    @property
    def names(self) -> list[str]:
        return list(self._probes)

    async def failing(self) -> list[str]:
        """Names of the dependencies that failed or did not answer in time, in the
        configured order; empty when ready. Error details are deliberately dropped:
        they can reveal internal addresses to anonymous callers."""
        names = list(self._probes)
        results = await asyncio.gather(
            *(self._probe(self._probes[name]) for name in names), return_exceptions=True
        )
        failing = [name for name, ok in zip(names, results, strict=True) if ok is not True]
        if self._record_failure is not None:
            for name in failing:
                self._record_failure(name)
        return failing

    async def _probe(self, probe: Probe) -> bool:
        async with asyncio.timeout(self._timeout):
            await probe()
        return True
