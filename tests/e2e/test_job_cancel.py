"""Cancelling jobs on the production wiring: PostgreSQL, Redis, SeaweedFS S3, real FFmpeg.

One worker slot, so while a long transcode encodes, a second job stays queued: the
module cancels both, through ``POST /api/jobs/{id}/cancel``, and checks what a cancel
promises: the row says ``canceled``, the queued task is gone, the running attempt's
tools are killed and nothing it made is left (scratch directory, media objects), and
the callback gets exactly one webhook with status ``canceled``. Every wait is on a
condition with a generous deadline; the lease is short (3 s: a heartbeat a second)
so that the running attempt notices the cancel soon.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
from attrs import define

from tests.e2e.test_worker_end_to_end import (
    run_worker_and_connect,
    service_backends,
    video_prefix,
)
from tests.support.media import bundled_binaries, make_clip
from tests.support.seaweedfs import S3Server
from tests.support.webhook_receiver import Delivery, WebhookReceiver
from vylux_cli.bootstrap import Runtime, build_server, build_worker, open_runtime
from vylux_cli.config import load_config

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]

SOURCE = "uploads/long.mp4"
# Long enough that the ladder is still encoding when the cancel arrives, on any machine.
CLIP_SECONDS = 30
WAIT_SECONDS = 120.0

T = TypeVar("T")


@define
class Stack:
    runtime: Runtime
    client: httpx.AsyncClient
    receiver: WebhookReceiver
    scratch: Path
    media_objects: Callable[[str], Awaitable[list[str]]]

    async def submit(self, media_hash: str) -> str:
        body = {
            "type": "video:transcode", "hash": media_hash, "source": SOURCE,
            "callback_url": self.receiver.url,
        }  # fmt: skip
        response = await self.client.post("/api/jobs", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["job_id"])

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def cancel(self, job_id: str) -> httpx.Response:
        return await self.client.post(f"/api/jobs/{job_id}/cancel")


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``probe`` until it returns something other than None (or False)."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                value = await probe()
                if value is not None and value is not False:
                    return value
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"after {WAIT_SECONDS:g} s: {what}") from None


def tools_of(job_id: str) -> list[psutil.Process]:
    """This process's children (ffmpeg, packager) working in the job's scratch directory."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any(job_id in arg for arg in child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _is_ffmpeg(process: psutil.Process) -> bool:
    try:
        return Path(process.cmdline()[0]).name.startswith("ffmpeg")
    except (psutil.NoSuchProcess, psutil.ZombieProcess, IndexError):
        return False


@pytest.fixture(scope="module")
async def stack(
    postgres_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("cancel-e2e")
    tools = bundled_binaries()
    clip = await asyncio.to_thread(
        make_clip, tools.ffmpeg, work / "long.mp4", width=640, height=360,
        seconds=CLIP_SECONDS, fps=15, audio=False,
    )  # fmt: skip
    async with AsyncExitStack() as exits:
        receiver = WebhookReceiver()
        scratch = work / "scratch"
        env, media_bucket = await service_backends(
            exits, postgres_url=postgres_url, s3_server=s3_server, sources={SOURCE: clip},
            receiver=receiver, scratch=scratch,
        )  # fmt: skip
        env |= {"WORKER_CONCURRENCY": "1", "WORKER_LEASE_TIMEOUT": "3s"}
        runtime = await exits.enter_async_context(open_runtime(load_config(env)))
        app = await exits.enter_async_context(build_server(runtime))
        worker = await exits.enter_async_context(build_worker(runtime))
        client = await run_worker_and_connect(
            exits, app, worker, name="cancel-e2e-worker", api_key=runtime.config.secrets.api_key
        )

        async def media_objects(prefix: str) -> list[str]:
            def listing() -> list[str]:
                answer = s3_server.admin.list_objects_v2(Bucket=media_bucket, Prefix=prefix)
                return [item["Key"] for item in answer.get("Contents", [])]

            return await asyncio.to_thread(listing)

        yield Stack(
            runtime=runtime, client=client, receiver=receiver, scratch=scratch,
            media_objects=media_objects,
        )  # fmt: skip


async def one_webhook(stack: Stack, job_id: str) -> dict[str, Any]:
    async def delivered() -> list[Delivery] | None:
        return stack.receiver.for_job(job_id) or None

    deliveries = await until(delivered, f"no webhook for job {job_id}")

    # The outbox row is the job's only message (its id is the job id); once it is sent
    # nothing else can follow.
    async def settled() -> bool:
        job = await stack.job(job_id)
        return job["callback_status"] == "sent"

    await until(settled, f"callback of {job_id} never marked sent")
    assert len(stack.receiver.for_job(job_id)) == len(deliveries) == 1
    body: dict[str, Any] = json.loads(deliveries[0].body)
    return body


async def test_cancel_stops_a_running_transcode_and_a_queued_job(stack: Stack) -> None:
    running_id = await stack.submit("cancel-running")

    async def encoding() -> list[psutil.Process] | None:
        job = await stack.job(running_id)
        # An ffmpeg encode, not the ffprobe that comes before it.
        encoders = [tool for tool in tools_of(running_id) if _is_ffmpeg(tool)]
        return encoders if job["status"] == "processing" and encoders else None

    await until(encoding, "the transcode never started encoding")
    # The only worker slot is busy: this one waits in the queue.
    queued_id = await stack.submit("cancel-queued")
    assert (await stack.job(queued_id))["status"] == "queued"
    assert await stack.runtime.queue.contains(queued_id)

    # --- the queued job: the row says canceled and its task is gone at once.
    queued = await stack.cancel(queued_id)
    assert queued.status_code == 200, queued.text
    assert queued.json()["status"] == "canceled"
    assert not await stack.runtime.queue.contains(queued_id)

    # --- the running job.
    answer = await stack.cancel(running_id)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["job_id"], answer.json()["status"]) == (running_id, "canceled")

    async def stopped() -> bool:
        return not tools_of(running_id) and not await stack.runtime.queue.contains(running_id)

    await until(stopped, "the cancelled attempt kept its tools or its task")

    async def scratch_removed() -> bool:
        return not any(running_id in path.name for path in stack.scratch.glob("*"))

    await until(scratch_removed, "the cancelled attempt left its scratch directory")
    assert await stack.media_objects(video_prefix("cancel-running")) == []
    assert (await stack.job(running_id))["status"] == "canceled"

    for job_id, media_hash in ((queued_id, "cancel-queued"), (running_id, "cancel-running")):
        body = await one_webhook(stack, job_id)
        assert body == {
            "job_id": job_id, "type": "video:transcode", "hash": media_hash,
            "status": "canceled",
        }  # fmt: skip

    # Idempotent: a second cancel answers the same job and sends nothing more.
    again = await stack.cancel(running_id)
    assert (again.status_code, again.json()["status"]) == (200, "canceled")
    assert len(stack.receiver.for_job(running_id)) == 1


async def test_cancel_of_a_finished_or_unknown_job_is_refused(stack: Stack) -> None:
    missing = await stack.cancel("no-such-job")
    assert (missing.status_code, missing.json()) == (404, {"message": "job not found"})
