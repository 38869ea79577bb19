"""The worker runtime: pools of concurrent attempts driving the core's JobRunner."""

from vylux_adapters.worker.pool import PoolSettings, WorkerPool

__all__ = ["PoolSettings", "WorkerPool"]
