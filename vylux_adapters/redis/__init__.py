"""Redis adapters: the task queue (producer and consumer ports) and the rate limiter."""

from vylux_adapters.redis.client import create_redis_client
from vylux_adapters.redis.rate_limiter import RedisRateLimiter
from vylux_adapters.redis.task_queue import RedisTaskQueue

__all__ = ["RedisRateLimiter", "RedisTaskQueue", "create_redis_client"]
