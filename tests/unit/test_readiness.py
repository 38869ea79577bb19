"""ReadinessService: every probe runs concurrently under one deadline; failures by name."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.deadlines import scaled
from vylux_core.errors import StorageUnavailable
from vylux_core.services.readiness import Probe, ReadinessService

NAMES = ["postgres", "redis", "source bucket", "media bucket"]


async def passes() -> None:
    return None


async def fails() -> None:
    raise StorageUnavailable("connection refused to 10.0.0.7:8333")


async def hangs() -> None:
    await asyncio.Event().wait()  # never set


async def test_all_probes_pass() -> None:
    service = ReadinessService(probes=dict.fromkeys(NAMES, passes), timeout=0.1)
    assert await service.failing() == []
    assert service.names == NAMES


async def test_no_probes_is_ready() -> None:
    assert await ReadinessService(probes={}).failing() == []


@pytest.mark.parametrize(
    ("outcomes", "want"),
    [
        pytest.param([passes, fails, passes, hangs], ["redis", "media bucket"], id="fail-and-hang"),
        pytest.param([hangs, passes, passes, fails], ["postgres", "media bucket"], id="hang-first"),
        pytest.param([fails, fails, fails, fails], NAMES, id="all-fail"),
        pytest.param([hangs, hangs, hangs, hangs], NAMES, id="all-hang"),
    ],
)
async def test_failing_and_hanging_probes_are_named_in_configured_order(
    outcomes: list[Probe], want: list[str]
) -> None:
    service = ReadinessService(probes=dict(zip(NAMES, outcomes, strict=True)), timeout=0.1)

    async with asyncio.timeout(scaled(5.0)):  # a hanging probe does not hang the check
        failing = await service.failing()

    assert failing == want


async def test_probes_run_concurrently() -> None:
    # Each probe answers only once all three have started. Run one after another, the
    # first two would wait out the deadline and be named as failing.
    started = 0
    all_started = asyncio.Event()

    async def waits_for_the_others() -> None:
        nonlocal started
        started += 1
        if started == 3:
            all_started.set()
        await all_started.wait()

    service = ReadinessService(
        probes=dict.fromkeys(["a", "b", "c"], waits_for_the_others), timeout=scaled(5.0)
    )
    assert await service.failing() == []


async def test_error_details_are_not_exposed() -> None:
    service = ReadinessService(probes={"source bucket": fails}, timeout=0.1)
    assert await service.failing() == ["source bucket"]
