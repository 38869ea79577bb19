"""Wake-up lists: how a producer tells waiting workers that a queue has work.

Each queue has a list of tokens; a producer pushes one after making a task pending and
a waiting worker BLPOPs the lists of its queues. A token wakes one waiter, so an
enqueue does not stampede every idle worker, and a token left over only causes one
spurious wake-up.
"""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

# BLPOP blocks for at most this long per call, well under the client's socket timeout
# (create_redis_client uses 10 s); longer waits are cut into slices.
BLOCK_SLICE_SECONDS = 2.0
# Tokens nobody consumed only cause spurious wake-ups; keep a few, not all.
WAKE_TOKENS_KEPT = 64


async def wake(client: redis.asyncio.Redis, wake_key: str) -> None:
    # A different slot from the queue's keys, so it can't be part of a script.
    if await client.lpush(wake_key, "1") > WAKE_TOKENS_KEPT:
        await client.ltrim(wake_key, 0, WAKE_TOKENS_KEPT - 1)


async def run_and_wake(
    client: redis.asyncio.Redis,
    script: AsyncScript,
    *,
    keys: list[str],
    args: list[str | int],
    wake_key: str,
) -> Any:
    """Run a script that may make a task pending and push a token in one round trip.

    The token is pushed even when the script changed nothing: a spurious wake-up costs
    a waiter one empty dequeue, a second round trip would cost every producer. One
    connection runs the pipeline in order, so no waiter wakes before the task is pending.
    """
    async with client.pipeline(transaction=False) as pipe:
        # EVALSHA rather than the script object: in a pipeline that would first send
        # SCRIPT EXISTS, a round trip of its own, every time.
        pipe.evalsha(script.sha, len(keys), *keys, *args)
        pipe.lpush(wake_key, "1")
        pipe.ltrim(wake_key, 0, WAKE_TOKENS_KEPT - 1)
        reply, *_ = await pipe.execute(raise_on_error=False)
    if isinstance(reply, NoScriptError):  # a restarted or new server: the object loads it
        reply = await script(keys=keys, args=args)
        await wake(client, wake_key)
    elif isinstance(reply, Exception):
        raise reply
    return reply


async def wait_for_token(
    client: redis.asyncio.Redis, wake_keys: list[str], max_wait: float
) -> None:
    """Return when a token arrives on one of ``wake_keys`` or after ``max_wait`` seconds."""
    if not wake_keys or max_wait <= 0:
        return
    slices = math.ceil(max_wait / BLOCK_SLICE_SECONDS)
    for _ in range(slices):
        if await client.blpop(wake_keys, timeout=max_wait / slices) is not None:
            return
