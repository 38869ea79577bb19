"""Vylux core: the pure domain and application services of the media service.

Embed it by handing adapters (``vylux_adapters.memory`` for tests, the real ones
for production) to the services; nothing here performs I/O on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vylux_core.lazy_exports import lazy_attribute

if TYPE_CHECKING:
    from vylux_core import errors
    from vylux_core.images.byte_lru import ByteLRU
    from vylux_core.images.options import (
        ImageFormat,
        ImageOptions,
        parse_format,
        parse_image_options,
        processing_hash,
    )
    from vylux_core.jobs.job import CallbackStatus, Job, JobStatus, JobType, NewJob
    from vylux_core.jobs.options import (
        AudioTranscodeOptions,
        CoverOptions,
        FullOptions,
        PreviewOptions,
        ThumbnailOptions,
        ThumbnailOutput,
        TranscodeOptions,
        WaveformOptions,
        canonical_options,
        decode_options,
    )
    from vylux_core.jobs.queue_routing import QueueAssignment, route_job
    from vylux_core.jobs.request import JobRequest, decode_job_request
    from vylux_core.jobs.results import results_json, structure_results, unstructure_results
    from vylux_core.jobs.retry_requests import RetryRequests, build_retry_requests
    from vylux_core.jobs.task import Lease, Task
    from vylux_core.media.ladder import Variant, resolve_ladder
    from vylux_core.security.key_ring import ContentKey, KeyRing, WrappedKey, parse_kek_config
    from vylux_core.security.key_token import mint_key_token, verify_key_token
    from vylux_core.security.signing import UrlSigner, canonical_object_key
    from vylux_core.services import JobLimits, JobService, RetrySubmission, Submission

# Each module and the public names it defines (see vylux_core.lazy_exports).
_attribute = lazy_attribute(
    __name__,
    {
        __name__: ("errors",),
        "vylux_core.images.byte_lru": ("ByteLRU",),
        "vylux_core.images.options": (
            "ImageFormat",
            "ImageOptions",
            "parse_format",
            "parse_image_options",
            "processing_hash",
        ),
        "vylux_core.jobs.job": (
            "CallbackStatus",
            "Job",
            "JobStatus",
            "JobType",
            "NewJob",
        ),
        "vylux_core.jobs.options": (
            "AudioTranscodeOptions",
            "CoverOptions",
            "FullOptions",
            "PreviewOptions",
            "ThumbnailOptions",
            "ThumbnailOutput",
            "TranscodeOptions",
            "WaveformOptions",
            "canonical_options",
            "decode_options",
        ),
        "vylux_core.jobs.request": (
            "JobRequest",
            "decode_job_request",
        ),
        "vylux_core.security.key_ring": (
            "ContentKey",
            "KeyRing",
            "WrappedKey",
            "parse_kek_config",
        ),
        "vylux_core.security.key_token": (
            "mint_key_token",
            "verify_key_token",
        ),
        "vylux_core.media.ladder": (
            "Variant",
            "resolve_ladder",
        ),
        "vylux_core.jobs.queue_routing": (
            "QueueAssignment",
            "route_job",
        ),
        "vylux_core.jobs.results": (
            "results_json",
            "structure_results",
            "unstructure_results",
        ),
        "vylux_core.jobs.retry_requests": (
            "RetryRequests",
            "build_retry_requests",
        ),
        "vylux_core.services": (
            "JobLimits",
            "JobService",
            "RetrySubmission",
            "Submission",
        ),
        "vylux_core.security.signing": (
            "UrlSigner",
            "canonical_object_key",
        ),
        "vylux_core.jobs.task": (
            "Lease",
            "Task",
        ),
    },
)


__all__ = [
    "AudioTranscodeOptions",
    "ByteLRU",
    "CallbackStatus",
    "ContentKey",
    "CoverOptions",
    "FullOptions",
    "ImageFormat",
    "ImageOptions",
    "Job",
    "JobLimits",
    "JobRequest",
    "JobService",
    "JobStatus",
    "JobType",
    "KeyRing",
    "Lease",
    "NewJob",
    "PreviewOptions",
    "QueueAssignment",
    "RetryRequests",
    "RetrySubmission",
    "Submission",
    "Task",
    "ThumbnailOptions",
    "ThumbnailOutput",
    "TranscodeOptions",
    "UrlSigner",
    "Variant",
    "WaveformOptions",
    "WrappedKey",
    "build_retry_requests",
    "canonical_object_key",
    "canonical_options",
    "decode_job_request",
    "decode_options",
    "errors",
    "mint_key_token",
    "parse_format",
    "parse_image_options",
    "parse_kek_config",
    "processing_hash",
    "resolve_ladder",
    "results_json",
    "route_job",
    "structure_results",
    "unstructure_results",
    "verify_key_token",
]


def __getattr__(name: str) -> Any:
    return _attribute(name)
