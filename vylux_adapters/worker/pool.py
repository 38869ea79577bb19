"""WorkerPool: concurrency slots that lease tasks, keep their leases alive and shut down
gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Mapping

from attrs import field, frozen

from vylux_adapters.telemetry.log_context import job_log_context
from vylux_adapters.telemetry.tracing import task_trace_context
from vylux_adapters.worker.timing import DEFAULT_LEASE_SECONDS, DEFAULT_SHUTDOWN_TIMEOUT
from vylux_core.errors import IllegalTransition, JobNotFound, Unavailable
from vylux_core.jobs.job import JobStatus
from vylux_core.jobs.task import Lease
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.worker.job_runner import JobRunner

logger = logging.getLogger(__name__)


def _weights(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


@frozen(kw_only=True)
class PoolSettings:
    name: str
    weights: Mapping[str, int] = field(converter=_weights)
    concurrency: int
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    heartbeat_interval: float = 10.0
    idle_wait: float = 1.0
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    backoff_on_outage: float = 1.0


class WorkerPool:
    """Runs up to ``concurrency`` attempts at once from the weighted queues.

    Leases are short (``lease_seconds``) and renewed by a heartbeat, so a dead worker's
    tasks come back within seconds while an hour-long transcode keeps its lease. On
    :meth:`stop` the pool stops fetching, gives running attempts ``shutdown_timeout``
    seconds, then hands the rest back to the queue without counting an attempt;
    :meth:`stop_now` hands them back at once.
    """

    def __init__(
        self,
        *,
        consumer: TaskConsumer,
        jobs: JobStore,
        runner: JobRunner,
        settings: PoolSettings,
        worker_id: str,
    ) -> None:
        self._consumer = consumer
        self._jobs = jobs
        self._runner = runner
        self._settings = settings
        self._worker_id = worker_id
        self._stopping = asyncio.Event()
        self._stopping_now = asyncio.Event()
        self._inflight: dict[asyncio.Task[None], Lease] = {}
        self._handing_back: set[str] = set()
        # Loop time before which no task is fetched: set when an attempt could not even be
        # recorded because the database or the queue is down.
        self._paused_until = 0.0

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def stop(self) -> None:
        """Stop fetching; :meth:`run` returns once running attempts are settled."""
        self._stopping.set()

    def stop_now(self) -> None:
        """Stop fetching and hand running attempts back to the queue without waiting
        for them (an operator's second Ctrl-C)."""
        self._stopping.set()
        self._stopping_now.set()

    async def run(self) -> None:
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            await self._fetch_loop()
        finally:
            await self._drain()
            keep_alive.cancel()
            await asyncio.gather(keep_alive, return_exceptions=True)

    async def _fetch_loop(self) -> None:
        queues = list(self._settings.weights)
        while not self._stopping.is_set():
            pause = self._paused_until - asyncio.get_running_loop().time()
            if pause > 0:
                await self._wait_for(asyncio.sleep(pause))
                continue
            if len(self._inflight) >= self._settings.concurrency:
                await self._wait_for(*self._inflight)
                continue
            free = self._settings.concurrency - len(self._inflight)
            try:
                leases = await self._consumer.dequeue_many(
                    self._settings.weights, self._worker_id, self._settings.lease_seconds, free
                )
                if not leases:
                    await self._wait_for(
                        self._consumer.wait_for_work(queues, self._settings.idle_wait)
                    )
                    continue
            except Unavailable as error:
                logger.warning("pool %s: queue unavailable: %s", self._settings.name, error)
                await self._wait_for(asyncio.sleep(self._settings.backoff_on_outage))
                continue
            for lease in leases:
                task = asyncio.create_task(self._attempt(lease), name=f"attempt-{lease.task.id}")
                self._inflight[task] = lease
                task.add_done_callback(self._inflight.pop)

    def _pause_fetching(self) -> None:
        resume_at = asyncio.get_running_loop().time() + self._settings.backoff_on_outage
        self._paused_until = max(self._paused_until, resume_at)

    async def _wait_for(self, *awaitables: Awaitable[object]) -> None:
        """Wait for the first of ``awaitables`` or for :meth:`stop`.

        Futures passed in (running attempts) are left alone; coroutines are wrapped
        here and cancelled when the wait ends.
        """
        owned = [asyncio.ensure_future(a) for a in awaitables if not isinstance(a, asyncio.Future)]
        shared = [a for a in awaitables if isinstance(a, asyncio.Future)]
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([stop, *owned, *shared], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (stop, *owned):
                future.cancel()
            await asyncio.gather(stop, *owned, return_exceptions=True)

    async def _attempt(self, lease: Lease) -> None:
        # Every log line of the attempt (runner, workflow, tools) carries the job, and
        # its spans continue the trace of the request that submitted it.
        with (
            job_log_context(lease.task.id, lease.task.type),
            task_trace_context(lease.task.payload),
        ):
            try:
                outcome = await self._runner.run(lease)
                logger.debug("job %s: %s", lease.task.id, outcome)
            except asyncio.CancelledError:
                if lease.task.id in self._handing_back:
                    await self._hand_back(lease)
                    raise
                # Cancelled by the heartbeat: the task was cancelled or its lease lost.
                await self._runner.abandon(lease)
            except Unavailable as error:
                # The runner records handler failures itself; this is the database or the
                # queue failing under it (often before the job even started). Left to
                # expire, the lease would cost the job an attempt and a lease period, and
                # the fetch loop would strand the whole backlog that way within seconds:
                # hand the task back uncounted and pause fetching instead.
                logger.warning(
                    "job %s: attempt could not be settled, handing it back: %s",
                    lease.task.id, error,
                )  # fmt: skip
                self._pause_fetching()
                await self._hand_back(lease)
            except Exception:
                # Not an outage: a bug. The lease expires and the recoverer retries.
                logger.exception("job %s: attempt could not be settled", lease.task.id)

    async def _keep_alive(self) -> None:
        """One loop renews every running lease (a task per attempt would double the
        bookkeeping of short tasks). A lease that cannot be renewed — cancelled, or
        taken back after expiring — stops its attempt."""
        while True:
            await asyncio.sleep(self._settings.heartbeat_interval)
            for task, lease in list(self._inflight.items()):
                try:
                    renewed = await self._consumer.heartbeat(lease, self._settings.lease_seconds)
                except Unavailable as error:
                    # Keep running: the lease is still ours until it expires.
                    logger.warning("job %s: heartbeat failed: %s", lease.task.id, error)
                    continue
                if task not in self._inflight:
                    continue  # finished while we were renewing
                if renewed is None or await self._row_cancelled(lease):
                    task.cancel()
                else:
                    self._inflight[task] = renewed

    async def _row_cancelled(self, lease: Lease) -> bool:
        """The job row is the source of truth for a cancel: this stops the attempt even
        when the queue was unreachable as the job was cancelled, one heartbeat later."""
        try:
            job = await self._jobs.get(lease.task.id)
        except JobNotFound:
            return False  # purged: the purge cancels the task through the queue
        except Unavailable as error:
            logger.warning("job %s: status check failed: %s", lease.task.id, error)
            return False
        return job.status is JobStatus.CANCELED

    async def _drain(self) -> None:
        if not self._inflight:
            return
        logger.info(
            "pool %s: waiting up to %.0f s for %d running attempts",
            self._settings.name, self._settings.shutdown_timeout, len(self._inflight),
        )  # fmt: skip
        # Cancelling the wait leaves the attempts themselves running.
        settled = asyncio.ensure_future(asyncio.wait(list(self._inflight)))
        now = asyncio.ensure_future(self._stopping_now.wait())
        try:
            await asyncio.wait(
                [settled, now],
                timeout=self._settings.shutdown_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for future in (settled, now):
                future.cancel()
            await asyncio.gather(settled, now, return_exceptions=True)
        remaining = list(self._inflight.items())
        for task, lease in remaining:
            self._handing_back.add(lease.task.id)
            task.cancel()
        await asyncio.gather(*(task for task, _ in remaining), return_exceptions=True)

    async def _hand_back(self, lease: Lease) -> None:
        """Give an unfinished attempt back: pending again, no attempt counted."""
        try:
            await self._consumer.release(lease)
            with contextlib.suppress(JobNotFound, IllegalTransition):
                await self._jobs.requeue(lease.task.id)
        except Unavailable as error:
            # The lease will expire and the recoverer will retry the task.
            logger.warning("job %s: could not hand back: %s", lease.task.id, error)
