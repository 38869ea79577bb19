"""The HTTP adapter's limits come from the environment through bootstrap."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from vylux_cli import bootstrap
from vylux_cli.config import environment_with_defaults


async def test_body_cap_and_jobs_rate_limit_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env files from the repository
    for name in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VYLUX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAX_BODY_BYTES", "64")
    monkeypatch.setenv("JOBS_RATE_LIMIT", "2")
    config = bootstrap.load_runtime_config(environment_with_defaults())
    headers = {"X-API-Key": config.secrets.api_key, "Content-Type": "application/json"}

    async with (
        bootstrap.open_runtime(config) as runtime,
        bootstrap.build_server(runtime) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://vylux.test"
        ) as client,
    ):
        too_large = await client.post("/api/jobs", content=b" " * 65, headers=headers)
        statuses = [
            (await client.post("/api/jobs", content=b"{}", headers=headers)).status_code
            for _ in range(3)
        ]

    assert too_large.status_code == 413
    # Refused for its size before the limiter counts it: two more, then 429.
    assert statuses == [400, 400, 429]
