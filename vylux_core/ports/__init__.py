"""The ports: small async Protocols the core depends on and adapters implement."""

from vylux_core.ports.audio_toolchain import (
    AudioDownloadFile,
    AudioPackage,
    AudioPlan,
    AudioProbe,
    AudioToolchain,
)
from vylux_core.ports.clock import Clock
from vylux_core.ports.entropy import Entropy
from vylux_core.ports.id_generator import IdGenerator
from vylux_core.ports.image_cache_index import CacheEntry, ImageCacheIndex
from vylux_core.ports.image_processor import ImageProcessor, ImageRendition, ImageTransform
from vylux_core.ports.job_store import CreateOutcome, JobStore
from vylux_core.ports.key_store import KeyStore, StoredKey
from vylux_core.ports.media_toolchain import (
    HlsEncryption,
    HlsPackage,
    HlsPlan,
    MediaProbe,
    MediaToolchain,
    PackagedTrack,
    ProgressCallback,
)
from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectReader, ObjectStore
from vylux_core.ports.rate_limiter import RateDecision, RateLimiter
from vylux_core.ports.task_consumer import TaskConsumer
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest, WebhookSender

__all__ = [
    "AudioDownloadFile",
    "AudioPackage",
    "AudioPlan",
    "AudioProbe",
    "AudioToolchain",
    "ByteRange",
    "CacheEntry",
    "Clock",
    "CreateOutcome",
    "DeliveryAttempt",
    "Entropy",
    "HlsEncryption",
    "HlsPackage",
    "HlsPlan",
    "IdGenerator",
    "ImageCacheIndex",
    "ImageProcessor",
    "ImageRendition",
    "ImageTransform",
    "JobStore",
    "KeyStore",
    "MediaProbe",
    "MediaToolchain",
    "ObjectInfo",
    "ObjectReader",
    "ObjectStore",
    "PackagedTrack",
    "ProgressCallback",
    "RateDecision",
    "RateLimiter",
    "StoredKey",
    "TaskConsumer",
    "TaskQueue",
    "WebhookRequest",
    "WebhookSender",
]
