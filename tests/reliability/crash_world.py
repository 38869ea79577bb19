"""What the crash-and-restart test runs on: a job set, a webhook receiver, and
``vylux-cli work`` as a child process that can be SIGKILLed and started again.

One :class:`Run` is one pass over the job set on fresh state (emptied tables, an emptied
Redis database, a new media bucket and scratch directory): the API of an in-process
server (``open_runtime`` + ``build_server``) takes the submissions, and the worker runs
as a separate process configured through its environment, as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil  # type: ignore[import-untyped]
from attrs import define, field, frozen
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.deadlines import scaled
from tests.support.media import make_clip, make_still
from tests.support.seaweedfs import S3Server
from tests.support.webhook_receiver import Delivery, WebhookReceiver
from vylux_adapters.redis.keys import QueueKeys, registry_key
from vylux_adapters.sql.schema import metadata
from vylux_cli.bootstrap import build_server, open_runtime
from vylux_cli.config import Config, load_config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BASE_URL = "http://testserver"
VYLUX_CLI = Path(sys.executable).parent / "vylux-cli"
PHOTO = "uploads/photo.jpg"
CLIP = "uploads/clip.mp4"
RECOVERED_LOG = "from a lost worker"
FAILED_ATTEMPT_LOG = " failed ("  # JobRunner: "job <id> attempt <n> failed (<outcome>): ..."
# After SIGSTOP, Redis still has to run the commands the worker had already sent; on a
# busy machine that takes longer than on an idle one.
FREEZE_SETTLE_SECONDS = scaled(0.1)
QUEUE_PREFIX = "vylux"  # bootstrap's RedisTaskQueue uses the default prefix


# --- the job set -----------------------------------------------------------------------


def job_bodies(count: int) -> list[dict[str, Any]]:
    """``count`` jobs cycling through thumbnail, cover, preview and transcode, each on a
    hash of its own so none is deduplicated against another."""
    kinds: list[dict[str, Any]] = [
        {"type": "image:thumbnail", "source": PHOTO, "options": {"outputs": [
            {"variant": "small", "width": 96, "height": 72, "format": "webp"},
            {"variant": "card", "width": 120, "height": 60, "format": "jpg"},
        ]}},
        {"type": "video:cover", "source": CLIP, "options": {"timestamp_sec": 0.5}},
        {"type": "video:preview", "source": CLIP, "options": {
            "start_sec": 0, "duration": 1, "width": 96, "fps": 5, "format": "gif",
        }},
        {"type": "video:transcode", "source": CLIP},
    ]  # fmt: skip
    return [{**kinds[i % len(kinds)], "hash": f"crash-{i:03d}"} for i in range(count)]


def make_sources(ffmpeg: str, directory: Path) -> dict[str, Path]:
    """Tiny sources: the clip is below every ladder rung, so a transcode is one AV1 and
    one H.264 rendition of 2 s (plus audio), a few seconds of work."""
    return {
        PHOTO: make_still(ffmpeg, directory / "photo.jpg", width=320, height=240),
        CLIP: make_clip(
            ffmpeg, directory / "clip.mp4", width=160, height=90, seconds=2, fps=10, audio=True
        ),
    }


# --- the webhook receiver ----------------------------------------------------------------


def signature_problems(secret: str, delivery: Delivery) -> list[str]:
    """What is wrong with a delivery's two signatures (empty: both verify)."""
    key = secret.encode()
    problems = []
    digest = hmac.new(key, delivery.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(delivery.headers.get("x-signature", ""), f"sha256={digest}"):
        problems.append("X-Signature")
    stamp = delivery.headers.get("x-vylux-timestamp", "")
    stamped = hmac.new(key, f"{stamp}.".encode() + delivery.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(delivery.headers.get("x-vylux-signature", ""), f"v1={stamped}"):
        problems.append("X-Vylux-Signature")
    return problems


# --- the worker process --------------------------------------------------------------------


@frozen
class Kill:
    at: float  # time.monotonic()
    pid: int
    processing: frozenset[str]  # job ids the database showed running just before
    leased: frozenset[str]  # task ids the queue showed leased to it just before
    children: tuple[int, ...]  # the worker's tool processes (ffmpeg, packager) then
    unmarked: frozenset[str]  # jobs whose webhook row was still pending then


class WorkerProcess:
    """``vylux-cli work`` with the run's environment; each start appends to one log."""

    def __init__(self, env: Mapping[str, str], log: Path, cwd: Path) -> None:
        self._env = dict(env)
        self._log = log
        self._cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self._log.open("ab") as log:
            # cwd without .env files: the environment given here is the whole configuration.
            self.process = subprocess.Popen(
                [str(VYLUX_CLI), "work"], env=self._env, cwd=self._cwd,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        self.starts += 1

    def children(self) -> tuple[int, ...]:
        try:
            found = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return ()
        return tuple(child.pid for child in found)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost host would: no handler runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float) -> int:
        """SIGTERM and wait: the worker drains and exits on its own."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise

    def ensure_dead(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_text(self) -> str:
        return self._log.read_text(errors="replace")


def surviving(pids: tuple[int, ...]) -> list[str]:
    """The processes among ``pids`` still running (zombies count as gone)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(process.cmdline()[:3])}")
    return alive


# --- one run ------------------------------------------------------------------------------


@frozen
class Outcome:
    """What a run left behind, keyed by job hash so two runs compare directly."""

    jobs: dict[str, dict[str, Any]]  # hash -> the API's job JSON
    objects: dict[str, tuple[str, str]]  # key -> (sha256, content type)


@define
class Run:
    config: Config
    env: dict[str, str]
    client: httpx.AsyncClient
    engine: AsyncEngine
    receiver: WebhookReceiver
    worker: WorkerProcess
    s3: S3Client
    media_bucket: str
    scratch: Path
    queue: Any  # the runtime's task queue, for its stats
    redis: Any  # a client on the run's Redis database
    submitted: dict[str, str] = field(factory=dict)  # hash -> job id
    kills: list[Kill] = field(factory=list)

    async def submit_all(self, bodies: list[dict[str, Any]]) -> None:
        async def submit(body: dict[str, Any]) -> None:
            while True:
                response = await self.client.post(
                    "/api/jobs", json={**body, "callback_url": self.receiver.url}
                )
                if response.status_code != 429:
                    break
                # The API's per-key job rate limit: wait as told, as a client would.
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            assert response.status_code == 202, response.text
            self.submitted[body["hash"]] = response.json()["job_id"]

        await asyncio.gather(*(submit(body) for body in bodies))

    async def statuses(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status"))
            return {str(status): int(count) for status, count in rows.all()}

    async def processing(self, since: datetime) -> frozenset[str]:
        """Jobs running and touched since ``since``: a killed worker's jobs stay
        ``processing`` until their leases expire, so only fresh rows are the current
        worker's."""
        query = text("SELECT id FROM jobs WHERE status = 'processing' AND updated_at >= :since")
        async with self.engine.connect() as conn:
            rows = await conn.execute(query, {"since": since})
            return frozenset(str(row[0]) for row in rows.all())

    async def wait_until_processing(self, *, since: datetime, seconds: float) -> None:
        """``seconds`` is for an idle machine and is scaled."""
        async with asyncio.timeout(scaled(seconds)):
            while not await self.processing(since):
                await asyncio.sleep(0.05)

    async def unmarked_deliveries(self) -> frozenset[str]:
        """Jobs whose webhook row is still pending: not sent yet, or sent and not yet
        marked sent (what a kill at that moment turns into a second delivery)."""
        query = text("SELECT job_id FROM webhook_deliveries WHERE status = 'pending'")
        async with self.engine.connect() as conn:
            rows = await conn.execute(query)
            return frozenset(str(row[0]) for row in rows.all())

    async def leases_of(self, pid: int) -> frozenset[str]:
        """Task ids leased to the worker process ``pid`` (bootstrap's worker id)."""
        worker_id = f"{os.uname().nodename}-{pid}"
        leased = set()
        for raw_queue in await self.redis.smembers(registry_key(QUEUE_PREFIX)):
            keys = QueueKeys(QUEUE_PREFIX, raw_queue.decode())
            for raw_id in await self.redis.zrange(keys.active, 0, -1):
                holder = await self.redis.hget(keys.task(raw_id.decode()), "worker_id")
                if holder is not None and holder.decode() == worker_id:
                    leased.add(raw_id.decode())
        return frozenset(leased)

    async def kill_worker(self, *, since: datetime, seconds: float) -> Kill:
        """SIGKILL the worker now or, if it holds no task right now, as soon as it does
        (``seconds``, for an idle machine, is scaled)."""
        async with asyncio.timeout(scaled(seconds)):
            while True:
                # Frozen first, so what it holds can be read without racing its next
                # dequeue; commands it had already sent get a moment to land in Redis.
                self.worker.freeze()
                await asyncio.sleep(FREEZE_SETTLE_SECONDS)
                leased = await self.leases_of(self.worker.pid)
                if leased:
                    break
                self.worker.thaw()
                await asyncio.sleep(0.05)
        processing = await self.processing(since)
        unmarked = await self.unmarked_deliveries()
        kill = Kill(
            time.monotonic(), self.worker.pid, processing, leased, self.worker.children(),
            unmarked,
        )  # fmt: skip
        self.worker.kill()
        self.kills.append(kill)
        return kill

    async def wait_until_settled(self, seconds: float) -> dict[str, int]:
        """Until every job is terminal and every webhook is no longer pending."""
        async with asyncio.timeout(seconds):
            while True:
                statuses = await self.statuses()
                async with self.engine.connect() as conn:
                    pending = (
                        await conn.execute(
                            text("SELECT count(*) FROM webhook_deliveries WHERE status='pending'")
                        )
                    ).scalar_one()
                done = sum(statuses.get(s, 0) for s in ("completed", "failed", "canceled"))
                if done == len(self.submitted) and pending == 0:
                    return statuses
                await asyncio.sleep(0.2)

    async def queue_stats(self) -> dict[str, int]:
        """Tasks per state over every queue."""
        totals: Counter[str] = Counter()
        for stats in await self.queue.stats():
            for state in ("pending", "active", "scheduled", "retry", "archived"):
                totals[state] += getattr(stats, state)
        return dict(totals)

    async def outcome(self) -> Outcome:
        jobs = {}
        for media_hash, job_id in self.submitted.items():
            response = await self.client.get(f"/api/jobs/{job_id}")
            assert response.status_code == 200, response.text
            jobs[media_hash] = response.json()
        return Outcome(jobs=jobs, objects=await asyncio.to_thread(self._objects))

    def _objects(self) -> dict[str, tuple[str, str]]:
        found = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.media_bucket):
            for item in page.get("Contents", []):
                got = self.s3.get_object(Bucket=self.media_bucket, Key=item["Key"])
                data = got["Body"].read()
                if item["Key"].endswith("/init.mp4"):
                    data = without_mp4_times(data)
                digest = hashlib.sha256(data).hexdigest()
                found[item["Key"]] = (digest, got["ContentType"])
        return found

    def failed_attempts(self) -> list[str]:
        """Attempts the workers themselves recorded as failed (a killed one records none)."""
        return [line for line in self.worker.log_text().splitlines() if FAILED_ATTEMPT_LOG in line]

    def recovered_jobs(self) -> list[str]:
        """Job ids the workers' lease recoverers took back from a killed worker."""
        recovered = []
        for line in self.worker.log_text().splitlines():
            if RECOVERED_LOG in line:
                with contextlib.suppress(ValueError):
                    message = json.loads(line).get("message", "")
                    recovered.append(message.split()[2])
        return recovered


# Boxes whose creation and modification times the packager sets to the wall clock.
TIMED_BOXES = (b"mvhd", b"tkhd", b"mdhd")


def without_mp4_times(data: bytes) -> bytes:
    """An init segment with its creation/modification times zeroed: the only bytes in
    which two packagings of the same encode differ (measured: every other object of a
    run, segments included, is byte-identical between runs)."""
    out = bytearray(data)
    for tag in TIMED_BOXES:
        start = out.find(tag)
        while start >= 4:
            version = out[start + 4]
            width = 8 if version == 1 else 4
            fields = start + 8  # after the type, version (1 byte) and flags (3 bytes)
            out[fields : fields + 2 * width] = bytes(2 * width)
            start = out.find(tag, start + 4)
    return bytes(out)


@frozen(kw_only=True)
class Shared:
    """What every run of a test shares: the services and the uploaded sources."""

    database_url: str
    redis_url: str
    s3: S3Server
    source_bucket: str
    secrets: Mapping[str, str]
    work: Path


def service_env(shared: Shared, *, media_bucket: str, scratch: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": shared.database_url,
        "REDIS_URL": shared.redis_url,
        "BASE_URL": BASE_URL,
        "VYLUX_SCRATCH_DIR": str(scratch),
        "WORKER_CONCURRENCY": "4",
        "LARGE_WORKER_CONCURRENCY": "1",
        "WORKER_METRICS_PORT": "0",
        "WORKER_SHUTDOWN_TIMEOUT": "30s",
        # A killed worker's jobs come back within 6 s (+2 s for the recovery pass)
        # instead of 35 s, then wait the queue's first retry back-off (10-15 s).
        "WORKER_LEASE_TIMEOUT": "6s",
        "ALLOW_PRIVATE_CALLBACKS": "true",  # the receiver listens on 127.0.0.1
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **shared.secrets,
    }
    for role, bucket in (("SOURCE", shared.source_bucket), ("MEDIA", media_bucket)):
        env |= {
            f"{role}_S3_ENDPOINT": shared.s3.endpoint,
            f"{role}_S3_ACCESS_KEY": shared.s3.access_key,
            f"{role}_S3_SECRET_KEY": shared.s3.secret_key,
            f"{role}_S3_REGION": shared.s3.region,
            f"{role}_BUCKET": bucket,
        }
    return env


def new_secrets() -> dict[str, str]:
    names = ("HMAC_SECRET", "API_KEY", "WEBHOOK_SECRET", "KEY_TOKEN_SECRET", "ENCRYPTION_KEY")
    return {name: secrets.token_hex(32) for name in names}


@asynccontextmanager
async def open_run(
    shared: Shared, name: str, engine: AsyncEngine, redis: Any
) -> AsyncIterator[Run]:
    """A run on fresh state; the worker is started by the caller and always stopped."""
    work = shared.work / name
    scratch = work / "scratch"
    scratch.mkdir(parents=True)
    media_bucket = f"vylux-test-{name}-{secrets.token_hex(4)}"
    shared.s3.admin.create_bucket(Bucket=media_bucket)
    env = service_env(shared, media_bucket=media_bucket, scratch=scratch)
    async with AsyncExitStack() as exits:
        exits.callback(empty_and_delete, shared.s3.admin, media_bucket)
        receiver = WebhookReceiver()
        await receiver.start()
        exits.push_async_callback(receiver.stop)
        config = load_config(env)
        runtime = await exits.enter_async_context(open_runtime(config))
        app = await exits.enter_async_context(build_server(runtime))
        client = await exits.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
                headers={"X-API-Key": config.secrets.api_key},
            )
        )  # fmt: skip
        worker = WorkerProcess(env, work / "worker.log", work)
        exits.callback(worker.ensure_dead)
        yield Run(
            config=config, env=env, client=client, engine=engine, receiver=receiver,
            worker=worker, s3=shared.s3.admin, media_bucket=media_bucket, scratch=scratch,
            queue=runtime.queue, redis=redis,
        )  # fmt: skip


def empty_and_delete(client: S3Client, bucket: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})  # type: ignore[typeddict-item]
    client.delete_bucket(Bucket=bucket)


async def reset_database(engine: AsyncEngine) -> None:
    """Empty tables between runs: the reconciler would re-enqueue a previous run's rows."""
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(text(f'DELETE FROM "{table.name}"'))
