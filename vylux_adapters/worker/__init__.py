"""The worker runtime: pools of concurrent attempts driving the core's JobRunner."""

from vylux_adapters.worker.pool import PoolSettings, WorkerPool
from vylux_adapters.worker.runtime import WorkerRuntime

__all__ = ["PoolSettings", "WorkerPool", "WorkerRuntime"]
