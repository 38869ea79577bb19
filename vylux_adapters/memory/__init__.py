"""In-memory adapters of every core port: for unit tests and for embedding the core."""

from vylux_adapters.memory.clock import ManualClock
from vylux_adapters.memory.id_generator import SequentialIdGenerator
from vylux_adapters.memory.image_cache_index import MemoryImageCacheIndex
from vylux_adapters.memory.image_processor import FakeImageProcessor, fake_image
from vylux_adapters.memory.job_store import MemoryJobStore
from vylux_adapters.memory.key_store import MemoryKeyStore
from vylux_adapters.memory.media_toolchain import FakeMediaToolchain
from vylux_adapters.memory.object_store import MemoryObjectReader, MemoryObjectStore
from vylux_adapters.memory.rate_limiter import MemoryRateLimiter
from vylux_adapters.memory.task_queue import MemoryTaskQueue
from vylux_adapters.memory.webhook_outbox import MemoryWebhookOutbox
from vylux_adapters.memory.webhook_sender import RecordingWebhookSender

__all__ = [
    "FakeImageProcessor",
    "FakeMediaToolchain",
    "ManualClock",
    "MemoryImageCacheIndex",
    "MemoryJobStore",
    "MemoryKeyStore",
    "MemoryObjectReader",
    "MemoryObjectStore",
    "MemoryRateLimiter",
    "MemoryTaskQueue",
    "MemoryWebhookOutbox",
    "RecordingWebhookSender",
    "SequentialIdGenerator",
    "fake_image",
]
