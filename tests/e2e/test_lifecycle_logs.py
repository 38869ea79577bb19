"""Job lifecycle log lines and the optional access log, from the production app of the
embedded profile and its worker (issue #20 item 3)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
import pyvips  # type: ignore[import-untyped]

from tests.reliability.embedded_server import EmbeddedServer, embedded_server

# A retry waits 10–15 s (vylux_core.jobs.retry_backoff); the rest is slack for a busy machine.
DEADLINE_SECONDS = 90.0
RUNNER = "vylux_core.worker.job_runner"
SERVICE = "vylux_core.services.job_service"


def lines(caplog: pytest.LogCaptureFixture, logger: str, prefix: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == logger and r.levelno == logging.INFO and r.getMessage().startswith(prefix)
    ]


def runner_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The worker's lifecycle lines, durations replaced by ``X`` (they vary)."""
    return [
        re.sub(r"duration=[0-9]+\.[0-9]{3}s", "duration=Xs", line)
        for line in lines(caplog, RUNNER, "job ")
    ]


async def submit(server: EmbeddedServer, media_hash: str, source: str) -> str:
    response = await server.client.post(
        "/api/jobs",
        headers=server.api,
        json={
            "type": "image:thumbnail", "hash": media_hash, "source": source,
            "options": {"outputs": [{"variant": "s", "width": 8, "height": 6, "format": "jpg"}]},
        },
    )  # fmt: skip
    assert response.status_code in (200, 201, 202), response.text
    return str(response.json()["job_id"])


async def final_status(server: EmbeddedServer, job_id: str) -> str:
    async with asyncio.timeout(DEADLINE_SECONDS):
        while True:
            job = await server.runtime.jobs.get(job_id)
            if job.status.is_terminal:
                return str(job.status)
            await asyncio.sleep(0.1)


async def test_a_job_retried_then_completed_logs_each_step(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    data = tmp_path / "data"
    async with embedded_server(data) as server:
        server.put_source("uploads/photo.png", pyvips.Image.black(16, 12).write_to_buffer(".png"))
        job_id = await submit(server, "lifecycle001", "uploads/photo.png")
        # The media store's root is gone (an unmounted volume): the first attempt fails
        # with a storage outage, which is retried.
        media, parked = data / "media", data / "media-parked"
        media.rename(parked)
        async with server.worker():
            async with asyncio.timeout(DEADLINE_SECONDS):
                while not lines(caplog, RUNNER, "job retry scheduled"):
                    await asyncio.sleep(0.05)
            parked.rename(media)
            assert await final_status(server, job_id) == "completed"
    described = f"id={job_id} type=image:thumbnail hash=lifecycle001"
    assert len(lines(caplog, SERVICE, "job accepted")) == 1
    assert re.fullmatch(
        rf"job accepted: {described} queue=\w+", lines(caplog, SERVICE, "job accepted")[0]
    )
    assert runner_lines(caplog) == [
        f"job started: {described} attempt=1",
        f"job retry scheduled: {described} attempt=1 duration=Xs",
        f"job started: {described} attempt=2",
        f"job completed: {described} attempt=2 duration=Xs",
    ]  # fmt: skip


async def test_a_job_failing_for_good_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with embedded_server(tmp_path / "data") as server:
        server.put_source("uploads/not-an-image.png", b"plain text, not a picture")
        job_id = await submit(server, "lifecycle002", "uploads/not-an-image.png")
        async with server.worker():
            assert await final_status(server, job_id) == "failed"
    assert runner_lines(caplog) == [
        f"job started: id={job_id} type=image:thumbnail hash=lifecycle002 attempt=1",
        f"job failed: id={job_id} type=image:thumbnail hash=lifecycle002 attempt=1 duration=Xs",
    ]  # fmt: skip


@pytest.mark.parametrize("enabled", [True, False])
async def test_access_log_is_one_line_per_request_when_enabled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, enabled: bool
) -> None:
    caplog.set_level(logging.INFO)
    settings = {"ACCESS_LOG": "true"} if enabled else {}
    async with embedded_server(tmp_path / "data", **settings) as server:
        response = await server.client.get(
            "/healthz?token=do-not-log", headers={"X-Request-Id": "req-access-1"}
        )
        missing = await server.client.get("/nowhere")
    access = [r.getMessage() for r in caplog.records if r.name == "vylux.access"]
    if not enabled:
        assert access == []
        return
    assert response.status_code == 200
    assert missing.status_code == 404
    assert len(access) == 2
    assert re.fullmatch(
        r"GET /healthz route=/healthz status=200 duration=[0-9.]+s client=\S+ "
        r"request_id=req-access-1",
        access[0],
    )
    assert "do-not-log" not in access[0]
    assert re.fullmatch(
        r"GET /nowhere route=unmatched status=404 duration=[0-9.]+s client=\S+ request_id=\w+",
        access[1],
    )
