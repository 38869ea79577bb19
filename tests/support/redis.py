"""A real Redis for tests: a connected client and a key prefix emptied afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio
from redis.exceptions import RedisError

from tests.support.services import service_unavailable
from vylux_adapters.redis import create_redis_client

REDIS_URL_ENV = "VYLUX_TEST_REDIS_URL"
# The service's queue prefix is fixed in bootstrap, so a suite that runs the whole service
# gets a Redis logical database of its own: it claims one of these with SET NX, so
# concurrent sessions never share one.
CLAIMABLE_REDIS_DBS = range(7, 16)
CLAIM_KEY = "vylux-e2e:claim"
CLAIM_TTL_SECONDS = 1800


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


@asynccontextmanager
async def claimed_redis_db() -> AsyncIterator[tuple[str, Any]]:
    """A Redis URL on a logical database no one else uses, with a client on it; the
    database is emptied before and after."""
    parts = urlsplit(redis_url())
    token = secrets.token_hex(8)
    for number in CLAIMABLE_REDIS_DBS:
        url = urlunsplit(parts._replace(path=f"/{number}"))
        client = create_redis_client(url)
        try:
            try:
                claimed = await client.set(CLAIM_KEY, token, nx=True, ex=CLAIM_TTL_SECONDS)
            except (RedisError, OSError) as exc:
                service_unavailable("Redis", f"{type(exc).__name__}: {exc}")
            if not claimed:
                continue  # another session is using that database
            await empty_redis(client)
            try:
                yield url, client
            finally:
                await client.flushdb()
            return
        finally:
            await client.aclose()
    service_unavailable("Redis", f"every logical database in {CLAIMABLE_REDIS_DBS} is claimed")


async def empty_redis(client: Any) -> None:
    """Deletes every key of a claimed database but the claim."""
    # Not FLUSHDB: that would drop the claim and open a window for another session.
    stale = [key async for key in client.scan_iter(count=500) if key != CLAIM_KEY.encode()]
    if stale:
        await client.delete(*stale)
