"""The HTTP adapter's limits come from the environment through bootstrap."""

from __future__ import annotations

import pytest

from tests.e2e.http_world import client_from_environment


async def test_body_cap_and_jobs_rate_limit_come_from_the_environment(
    local_env: pytest.MonkeyPatch,
) -> None:
    local_env.setenv("MAX_BODY_BYTES", "64")
    local_env.setenv("JOBS_RATE_LIMIT", "2")
    async with client_from_environment() as (config, client):
        headers = {"X-API-Key": config.secrets.api_key, "Content-Type": "application/json"}
        too_large = await client.post("/api/jobs", content=b" " * 65, headers=headers)
        statuses = [
            (await client.post("/api/jobs", content=b"{}", headers=headers)).status_code
            for _ in range(3)
        ]

    assert too_large.status_code == 413
    # Refused for its size before the limiter counts it: two more, then 429.
    assert statuses == [400, 400, 429]
