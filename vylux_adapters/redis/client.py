"""Opening a Redis client with the timeouts and retries the task queue expects."""

from __future__ import annotations

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Above the adapter's longest BLPOP slice (2 s), so a quiet wait never reads as an outage.
SOCKET_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
# Idle pooled connections are PINGed before reuse, so a dead one (a failover, a NAT
# that dropped it) is replaced instead of failing the next command.
HEALTH_CHECK_INTERVAL_SECONDS = 30


def create_redis_client(url: str) -> redis.asyncio.Redis:
    """A pooled asyncio client for ``url``; no connection is made until first use.

    Only connection errors are retried, briefly: a command that timed out may have run
    on the server, and the queue's scripts are not all safe to run twice.
    """
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=Retry(
            ExponentialWithJitterBackoff(base=0.05, cap=0.5),
            retries=2,
            supported_errors=(RedisConnectionError,),
        ),
        client_name="vylux",
    )
