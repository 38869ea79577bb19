"""Operating telemetry through the production app of the embedded profile: readiness
failures counted per check, webhook deliveries counted by outcome, the outbox depth
gauge, and trace context on every webhook (issue #20 item 7)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pyvips  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from tests.reliability.embedded_server import EmbeddedServer, embedded_server
from tests.support.webhook_receiver import Delivery, WebhookReceiver

# Generous: a busy 2-core machine; nothing here should take more than a few seconds.
DEADLINE_SECONDS = 60.0
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
# Nothing listens on port 1: every connection is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def samples(server: EmbeddedServer, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of ``name`` in the app's own ``/metrics``, keyed by sorted labels."""
    response = await server.client.get("/metrics")
    assert response.status_code == 200
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(DEADLINE_SECONDS):
        while not condition():
            await asyncio.sleep(0.05)
    assert condition(), what


async def test_a_failed_readyz_check_is_counted_by_its_name(tmp_path: Path) -> None:
    async with embedded_server(tmp_path / "data", REDIS_URL=DEAD_REDIS) as server:
        before = await samples(server, "vylux_readiness_failures_total")
        response = await server.client.get("/readyz")
        after = await samples(server, "vylux_readiness_failures_total")
    assert response.status_code == 503
    assert response.text == "not ready: queue"
    assert before == {}
    assert after == {(("check", "queue"),): 1.0}


async def test_a_passing_readyz_counts_nothing(tmp_path: Path) -> None:
    async with embedded_server(tmp_path / "data") as server:
        response = await server.client.get("/readyz")
        after = await samples(server, "vylux_readiness_failures_total")
    assert response.status_code == 200
    assert after == {}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver(failures_per_job=1_000)  # refuses until told otherwise
    await hook.start()
    try:
        yield hook
    finally:
        await hook.stop()


async def submit_thumbnail(server: EmbeddedServer, callback_url: str) -> str:
    image = pyvips.Image.black(16, 12, bands=3)
    server.put_source("uploads/photo.png", image.write_to_buffer(".png"))
    created = await server.client.post(
        "/api/jobs",
        headers=server.api,
        json={
            "type": "image:thumbnail", "hash": "telemetry0001", "source": "uploads/photo.png",
            "callback_url": callback_url,
            "options": {"outputs": [{"variant": "s", "width": 8, "height": 6, "format": "jpg"}]},
        },
    )  # fmt: skip
    assert created.status_code in (200, 201, 202), created.text
    return str(created.json()["job_id"])


async def test_webhooks_carry_traceparent_and_trace_id(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    # The embedded profile, no OTLP endpoint: spans are not recorded, yet every attempt
    # (refused or delivered) still sends its trace context.
    receiver.failures_per_job = 1
    async with embedded_server(tmp_path / "data", ALLOW_PRIVATE_CALLBACKS="true") as server:
        job_id = await submit_thumbnail(server, receiver.url)
        async with server.worker():
            await wait_until(
                lambda: any(d.answered == 204 for d in receiver.for_job(job_id)), "a delivery"
            )
    attempts = receiver.for_job(job_id)
    assert [d.answered for d in attempts] == [503, 204]
    trace_ids = {check_trace_headers(attempt) for attempt in attempts}
    assert len(trace_ids) == 2  # one span per attempt


async def test_webhook_deliveries_are_counted_and_the_outbox_depth_is_exposed(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with embedded_server(tmp_path / "data", ALLOW_PRIVATE_CALLBACKS="true") as server:
        job_id = await submit_thumbnail(server, receiver.url)
        idle = await samples(server, "vylux_webhook_deliveries_total")
        async with server.worker():
            # Refused first: the delivery waits in the outbox for its next attempt.
            await wait_until(lambda: len(receiver.for_job(job_id)) >= 1, "a first attempt")
            await wait_until_counted(server, "retry")
            pending = await samples(server, "vylux_webhook_outbox_depth")
            receiver.failures_per_job = 0
            await wait_until(
                lambda: any(d.answered == 204 for d in receiver.for_job(job_id)), "a delivery"
            )
            await wait_until_counted(server, "delivered")
        counted = await samples(server, "vylux_webhook_deliveries_total")
        drained = await samples(server, "vylux_webhook_outbox_depth")
    assert idle == {
        (("outcome", "delivered"),): 0.0, (("outcome", "retry"),): 0.0,
        (("outcome", "failed"),): 0.0,
    }  # fmt: skip
    assert pending == {(): 1.0}
    assert drained == {(): 0.0}
    retries = counted[(("outcome", "retry"),)]
    assert retries == len(receiver.for_job(job_id)) - 1 >= 1
    assert counted[(("outcome", "delivered"),)] == 1.0
    assert counted[(("outcome", "failed"),)] == 0.0


def check_trace_headers(delivery: Delivery) -> str:
    """Asserts a valid ``traceparent`` and an ``X-Trace-ID`` naming its trace; returns it."""
    match = TRACEPARENT.fullmatch(delivery.headers.get("traceparent", ""))
    assert match is not None, delivery.headers
    trace_id, span_id = match.groups()
    assert trace_id != "0" * 32
    assert span_id != "0" * 16
    assert delivery.headers["x-trace-id"] == trace_id
    return trace_id


async def wait_until_counted(server: EmbeddedServer, outcome: str) -> None:
    async with asyncio.timeout(DEADLINE_SECONDS):
        while True:
            found = await samples(server, "vylux_webhook_deliveries_total")
            if found.get((("outcome", outcome),), 0.0) >= 1:
                return
            await asyncio.sleep(0.05)
