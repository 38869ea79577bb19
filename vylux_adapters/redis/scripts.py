"""The queue's Lua scripts (``lua/*.lua`` beside this module), registered on a client."""

from __future__ import annotations

from importlib import resources

import redis.asyncio
from attrs import frozen
from redis.commands.core import AsyncScript


@frozen(kw_only=True)
class QueueScripts:
    """One script per multi-key step; each touches the keys of a single queue."""

    enqueue: AsyncScript
    dequeue: AsyncScript
    heartbeat: AsyncScript
    ack: AsyncScript
    fail: AsyncScript
    release: AsyncScript
    expire: AsyncScript
    cancel: AsyncScript
    requeue: AsyncScript
    stats: AsyncScript


def load_scripts(client: redis.asyncio.Redis) -> QueueScripts:
    """Read the scripts and register them; Redis loads each on its first EVALSHA miss."""
    folder = resources.files("vylux_adapters.redis").joinpath("lua")

    def script(name: str) -> AsyncScript:
        return client.register_script(folder.joinpath(f"{name}.lua").read_text("utf-8"))

    return QueueScripts(
        enqueue=script("enqueue"),
        dequeue=script("dequeue"),
        heartbeat=script("heartbeat"),
        ack=script("ack"),
        fail=script("fail"),
        release=script("release"),
        expire=script("expire"),
        cancel=script("cancel"),
        requeue=script("requeue"),
        stats=script("stats"),
    )
