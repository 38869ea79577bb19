"""A real Redis for tests: a connected client and a key prefix emptied afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from redis.exceptions import RedisError

from tests.support.services import service_unavailable
from vylux_adapters.redis import create_redis_client

REDIS_URL_ENV = "VYLUX_TEST_REDIS_URL"


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV, "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def redis_client() -> AsyncIterator[redis.asyncio.Redis]:
    """A client on the test Redis that answered PING; skips (or fails) when it is down."""
    client = create_redis_client(redis_url())
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            service_unavailable("Redis", f"{type(exc).__name__}: {exc}")
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def redis_prefix(client: redis.asyncio.Redis) -> AsyncIterator[str]:
    """A fresh ``vylux-test-<hex>`` key prefix; every key under it is deleted afterwards."""
    prefix = f"vylux-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        await delete_prefix(client, prefix)


async def delete_prefix(client: redis.asyncio.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
    for start in range(0, len(keys), 500):
        await client.delete(*keys[start : start + 500])
