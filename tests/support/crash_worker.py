"""A real worker process for the crash tests: ``python -m tests.support.crash_worker``.

It runs the production WorkerPool, JobRunner and LeaseRecoverer on PostgreSQL and the
chosen queue backend, with one slow ``video:cover`` handler that logs when it starts
and when it finishes, so a test can kill it mid-task and count completions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.results import image_artifact
from vylux_adapters.sql import SqlJobStore, create_engine
from vylux_adapters.system import SystemClock
from vylux_adapters.worker.pool import PoolSettings, WorkerPool
from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.results import ImageArtifact, Results
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.worker import JobRunner, LeaseRecoverer, ProgressReporter

# Heartbeats every 0.5 s: a live worker keeps its lease through a stall of 3.5 s on a
# busy machine, and a killed one's task comes back after 4 s.
LEASE_SECONDS = 4.0


def result_of(pid: int) -> ImageArtifact:
    """What the worker process ``pid`` completes its job with: it names that process."""
    return image_artifact(f"videos/crash/{pid}.jpg")


def slow_handler(log: Path, seconds: float) -> Any:
    async def handle(job: Job, progress: ProgressReporter) -> Results:
        with log.open("a") as handle_log:
            handle_log.write(f"start {job.id} {os.getpid()}\n")
        await asyncio.sleep(seconds)
        with log.open("a") as handle_log:
            handle_log.write(f"done {job.id} {os.getpid()}\n")
        return result_of(os.getpid())

    return handle


@asynccontextmanager
async def open_queue(args: argparse.Namespace, clock: SystemClock) -> AsyncIterator[TaskConsumer]:
    if args.queue == "redis":
        from vylux_adapters.redis import RedisTaskQueue, create_redis_client

        client = create_redis_client(args.redis_url)
        try:
            yield RedisTaskQueue(
                client=client, clock=clock, rng=random.Random(), prefix=args.prefix
            )
        finally:
            await client.aclose()
    else:
        from vylux_adapters.sql import SqlTaskQueue

        engine = create_engine(args.database_url)
        try:
            yield SqlTaskQueue(engine=engine, clock=clock, rng=random.Random(), poll_interval=0.1)
        finally:
            await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    clock = SystemClock()
    engine = create_engine(args.database_url)
    jobs = SqlJobStore(engine=engine, clock=clock)
    async with open_queue(args, clock) as queue:
        runner = JobRunner(
            jobs=jobs, consumer=queue, clock=clock,
            handlers={JobType.COVER: slow_handler(Path(args.log), args.task_seconds)},
        )  # fmt: skip
        pool = WorkerPool(
            consumer=queue, jobs=jobs, runner=runner, worker_id=f"crash-{os.getpid()}",
            settings=PoolSettings(
                name="main", weights={"critical": 6, "default": 3}, concurrency=2,
                lease_seconds=LEASE_SECONDS, heartbeat_interval=0.5, idle_wait=0.2,
                shutdown_timeout=1.0,
            ),
        )  # fmt: skip
        recoverer = LeaseRecoverer(consumer=queue, jobs=jobs, clock=clock, interval=0.5)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, pool.stop)
        recovery = asyncio.create_task(recoverer.run())
        try:
            await pool.run()
        finally:
            recovery.cancel()
            await engine.dispose()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--queue", choices=["redis", "sql"], required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--prefix", default="vylux")
    parser.add_argument("--log", required=True)
    parser.add_argument("--task-seconds", type=float, default=3.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
