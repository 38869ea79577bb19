"""Queue benchmark: enqueue-to-start latency and no-op task throughput per worker process.

    .venv/bin/python -m bench.queue [--tasks 5000] [--latency-tasks 500] [--backends redis,sql]

Runs the production WorkerPool + JobRunner in this one process against the real
Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) queues. Job rows live in the
in-memory JobStore so the figures are the queue's and the runtime's, not the job
table's; ``--job-store postgres`` measures the whole worker path instead.
Prints one table; nothing is asserted (targets: Redis p50 <= 5 ms, >= 2000 tasks/s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from vylux_adapters.memory import MemoryJobStore
from vylux_adapters.redis import RedisTaskQueue, create_redis_client
from vylux_adapters.sql import SqlJobStore, SqlTaskQueue, create_engine, upgrade
from vylux_adapters.system import SystemClock
from vylux_adapters.worker.pool import PoolSettings, WorkerPool
from vylux_core.jobs.job import Job, JobStatus, JobType, NewJob
from vylux_core.ports.job_store import JobStore
from vylux_core.services import task_for_job
from vylux_core.worker import JobRunner, ProgressReporter

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"vylux_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def open_backend(name: str, database_url: str) -> AsyncIterator[Any]:
    clock = SystemClock()
    if name == "redis":
        client = create_redis_client(REDIS_URL)
        prefix = f"vylux-bench-{secrets.token_hex(4)}"
        try:
            yield RedisTaskQueue(client=client, clock=clock, rng=random.Random(), prefix=prefix)
        finally:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
            for start in range(0, len(keys), 1000):
                await client.delete(*keys[start : start + 1000])
            await client.aclose()
    else:
        engine = create_engine(database_url, pool_size=20)
        try:
            yield SqlTaskQueue(engine=engine, clock=clock, rng=random.Random())
        finally:
            await engine.dispose()


async def run_case(
    backend: str, database_url: str, jobs: JobStore, tasks: int, latency_tasks: int
) -> dict[str, float]:
    started: dict[str, float] = {}
    done = asyncio.Event()
    target = [0]

    async def no_op(job: Job, progress: ProgressReporter) -> Any:
        started[job.id] = time.perf_counter()
        if len(started) >= target[0]:
            done.set()
        return None

    async with open_backend(backend, database_url) as queue:
        clock = SystemClock()
        runner = JobRunner(jobs=jobs, consumer=queue, handlers={JobType.COVER: no_op}, clock=clock)
        pool = WorkerPool(
            consumer=queue, jobs=jobs, runner=runner, worker_id="bench",
            settings=PoolSettings(
                name="main", weights={"critical": 6, "default": 3}, concurrency=10,
                lease_seconds=60, heartbeat_interval=20, idle_wait=1.0,
            ),
        )  # fmt: skip
        # Throughput: a full queue drained by one worker process.
        ids = [await submit(jobs, queue, f"{backend}-t-{n}") for n in range(tasks)]
        target[0] = len(ids)
        begin = time.perf_counter()
        runner_task = asyncio.create_task(pool.run())
        await asyncio.wait_for(done.wait(), 600)
        throughput = tasks / (time.perf_counter() - begin)
        # Latency: tasks enqueued one at a time into an idle worker.
        started.clear()
        done.clear()
        target[0] = latency_tasks
        enqueued: dict[str, float] = {}
        for n in range(latency_tasks):
            job_id = await create_job(jobs, f"{backend}-l-{n}")
            enqueued[job_id] = time.perf_counter()
            await queue.enqueue(task_for_job(await jobs.get(job_id)))
            await asyncio.sleep(0.004)
        await asyncio.wait_for(done.wait(), 120)
        pool.stop()
        await runner_task
    latencies = sorted((started[i] - enqueued[i]) * 1000 for i in enqueued)
    return {
        "tasks_per_s": throughput,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
    }


async def create_job(jobs: JobStore, job_id: str) -> str:
    await jobs.create(
        NewJob(id=job_id, type=JobType.COVER, hash="bench", source="s.mp4", options={},
               request_fingerprint=f"fp-{job_id}")
    )  # fmt: skip
    return job_id


async def submit(jobs: JobStore, queue: Any, job_id: str) -> str:
    await create_job(jobs, job_id)
    await queue.enqueue(task_for_job(await jobs.get(job_id)))
    return job_id


async def main(args: argparse.Namespace) -> None:
    rows = []
    async with postgres_database() as database_url:
        for backend in args.backends.split(","):
            if args.job_store == "postgres":
                engine = create_engine(database_url, pool_size=20)
                jobs: JobStore = SqlJobStore(engine=engine, clock=SystemClock())
            else:
                jobs = MemoryJobStore(clock=SystemClock())
            result = await run_case(backend, database_url, jobs, args.tasks, args.latency_tasks)
            completed = await jobs.list_by_status(JobStatus.COMPLETED, args.tasks * 2)
            rows.append((backend, result, len(completed)))
    print(f"job store: {args.job_store}; {args.tasks} no-op tasks, concurrency 10, one process")
    print(f"{'queue':<8}{'tasks/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'completed':>11}")
    for backend, result, completed in rows:
        print(
            f"{backend:<8}{result['tasks_per_s']:>10.0f}{result['p50_ms']:>10.2f}"
            f"{result['p99_ms']:>10.2f}{completed:>11}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--latency-tasks", type=int, default=500)
    parser.add_argument("--backends", default="redis,sql")
    parser.add_argument("--job-store", choices=["memory", "postgres"], default="memory")
    asyncio.run(main(parser.parse_args()))
