"""A worker process SIGKILLed mid-task: another worker finishes the job, exactly once."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.support.crash_worker import result_of
from tests.support.databases import emptied_engine
from tests.support.deadlines import scaled
from tests.support.redis import redis_client, redis_prefix, redis_url
from vylux_adapters.redis import RedisTaskQueue
from vylux_adapters.sql import SqlJobStore
from vylux_adapters.system import SystemClock
from vylux_core.jobs.job import JobStatus, JobType, NewJob
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.services import task_for_job

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


async def wait_for(predicate: object, seconds: float) -> None:
    """Until ``predicate()`` holds; ``seconds`` is for an idle machine and is scaled."""
    async with asyncio.timeout(scaled(seconds)):
        while not await predicate():  # type: ignore[operator]
            await asyncio.sleep(0.1)


@asynccontextmanager
async def redis_queue(clock: SystemClock) -> AsyncIterator[tuple[TaskQueue, list[str]]]:
    async with redis_client() as client, redis_prefix(client) as prefix:
        queue = RedisTaskQueue(client=client, clock=clock, rng=random.Random(1), prefix=prefix)
        yield queue, ["--queue", "redis", "--redis-url", redis_url(), "--prefix", prefix]


@asynccontextmanager
async def sql_queue(
    clock: SystemClock, database_url: str
) -> AsyncIterator[tuple[TaskQueue, list[str]]]:
    from vylux_adapters.sql import SqlTaskQueue, create_engine

    engine = create_engine(database_url)
    try:
        yield SqlTaskQueue(engine=engine, clock=clock, rng=random.Random(1)), ["--queue", "sql"]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["redis", "sql"])
async def test_killed_worker_task_completes_exactly_once(
    backend: str, postgres_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    log = tmp_path / "worker.log"
    log.touch()
    async with emptied_engine(postgres_url) as engine:
        jobs = SqlJobStore(engine=engine, clock=clock)
        opened = redis_queue(clock) if backend == "redis" else sql_queue(clock, postgres_url)
        async with opened as (queue, backend_args):
            created = await jobs.create(
                NewJob(id="crash-job", type=JobType.COVER, hash="crash", source="s.mp4",
                       options={}, request_fingerprint="fp-crash")
            )  # fmt: skip
            await queue.enqueue(task_for_job(created.job))
            args = ["--database-url", postgres_url, "--log", str(log), *backend_args]

            # The first worker's task outlasts any wait for its "start": the kill always
            # lands mid-task, however slowly this test gets to see that line.
            first = start_worker([*args, "--task-seconds", "600"])
            try:
                await wait_for(lambda: _logged(log, "start"), 30)
                first.send_signal(signal.SIGKILL)
                first.wait(10)
            finally:
                first.kill()
            second = start_worker(args)
            try:

                async def completed() -> bool:
                    return (await jobs.get("crash-job")).status is JobStatus.COMPLETED

                await wait_for(completed, 60)
            finally:
                second.send_signal(signal.SIGTERM)
                _, stderr = second.communicate(timeout=30)

            job = await jobs.get("crash-job")
            lines = log.read_text().splitlines()
            assert [line.split()[0] for line in lines] == ["start", "start", "done"], stderr
            assert (job.status, job.progress, job.error) == (JobStatus.COMPLETED, 100, None)
            assert job.results == result_of(second.pid)
            assert not await queue.contains("crash-job")
            assert second.returncode == 0, stderr


async def _logged(log: Path, word: str) -> bool:
    return any(line.startswith(word) for line in log.read_text().splitlines())
