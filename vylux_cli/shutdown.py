"""What ``serve`` and ``work`` do on SIGTERM/SIGINT.

The first signal asks for a graceful stop and says, in one line, what the process waits
for; a second SIGINT (Ctrl-C) stops at once, handing running jobs back to the queue
without counting an attempt. A second SIGTERM changes nothing: orchestrators send it
again while they wait, and their own kill timeout is the operator's "now".
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Protocol


class Stoppable(Protocol):
    @property
    def running(self) -> int: ...

    def stop(self) -> None: ...

    def stop_now(self) -> None: ...


class Shutdown:
    """The stop request of a service process, set by its signal handlers."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._requested = asyncio.Event()
        self._worker: Stoppable | None = None
        self._timeout = 0.0
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._signalled, sig)

    def watch(self, worker: Stoppable, timeout_seconds: float) -> None:
        """Stop ``worker`` with the process; it gets ``timeout_seconds`` to finish."""
        self._worker = worker
        self._timeout = timeout_seconds

    def is_set(self) -> bool:
        return self._requested.is_set()

    async def wait(self) -> None:
        await self._requested.wait()

    def _signalled(self, sig: signal.Signals) -> None:
        if not self._requested.is_set():
            self._requested.set()
            self._say(self._waiting_line())
            if self._worker is not None:
                self._worker.stop()
        elif sig is signal.SIGINT and self._worker is not None and self._worker.running:
            self._say("stopping now: handing the running jobs back to the queue")
            self._worker.stop_now()

    def _waiting_line(self) -> str:
        running = self._worker.running if self._worker is not None else 0
        if not running:
            return "stopping"
        jobs = "job" if running == 1 else "jobs"
        return (
            f"stopping: waiting for {running} running {jobs}, up to {self._timeout:g} s "
            "(WORKER_SHUTDOWN_TIMEOUT); press Ctrl-C again to stop now"
        )
