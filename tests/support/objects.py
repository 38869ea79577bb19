"""Whether a store holds a key, asked the way production asks: ``stat``."""

from __future__ import annotations

from vylux_core.errors import ObjectNotFound
from vylux_core.ports.object_store import ObjectStore


async def object_exists(store: ObjectStore, key: str) -> bool:
    """True when ``stat(key)`` finds an object, False on ``ObjectNotFound``."""
    try:
        await store.stat(key)
    except ObjectNotFound:
        return False
    return True
