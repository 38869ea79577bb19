"""The ports: small async Protocols the core depends on and adapters implement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vylux_core.lazy_exports import lazy_attribute

if TYPE_CHECKING:
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

_attribute = lazy_attribute(
    __name__,
    {
        "vylux_core.ports.audio_toolchain": (
            "AudioDownloadFile",
            "AudioPackage",
            "AudioPlan",
            "AudioProbe",
            "AudioToolchain",
        ),
        "vylux_core.ports.clock": ("Clock",),
        "vylux_core.ports.entropy": ("Entropy",),
        "vylux_core.ports.id_generator": ("IdGenerator",),
        "vylux_core.ports.image_cache_index": (
            "CacheEntry",
            "ImageCacheIndex",
        ),
        "vylux_core.ports.image_processor": (
            "ImageProcessor",
            "ImageRendition",
            "ImageTransform",
        ),
        "vylux_core.ports.job_store": (
            "CreateOutcome",
            "JobStore",
        ),
        "vylux_core.ports.key_store": (
            "KeyStore",
            "StoredKey",
        ),
        "vylux_core.ports.media_toolchain": (
            "HlsEncryption",
            "HlsPackage",
            "HlsPlan",
            "MediaProbe",
            "MediaToolchain",
            "PackagedTrack",
            "ProgressCallback",
        ),
        "vylux_core.ports.object_store": (
            "ByteRange",
            "ObjectInfo",
            "ObjectReader",
            "ObjectStore",
        ),
        "vylux_core.ports.rate_limiter": (
            "RateDecision",
            "RateLimiter",
        ),
        "vylux_core.ports.task_consumer": ("TaskConsumer",),
        "vylux_core.ports.task_queue": ("TaskQueue",),
        "vylux_core.ports.webhook_sender": (
            "DeliveryAttempt",
            "WebhookRequest",
            "WebhookSender",
        ),
    },
)


def __getattr__(name: str) -> Any:
    return _attribute(name)
