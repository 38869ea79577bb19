"""Vylux core: the pure domain and application services of the media service.

Embed it by handing adapters (``vylux_adapters.memory`` for tests, the real ones
for production) to the services; nothing here performs I/O on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

# Public name -> the module that defines it. Names load on first use (PEP 562), so a
# program that needs one module of the core does not pay for importing all of it.
_HOMES = {
    "errors": "vylux_core",
    "ByteLRU": "vylux_core.images.byte_lru",
    "ImageFormat": "vylux_core.images.options",
    "ImageOptions": "vylux_core.images.options",
    "parse_format": "vylux_core.images.options",
    "parse_image_options": "vylux_core.images.options",
    "processing_hash": "vylux_core.images.options",
    "CallbackStatus": "vylux_core.jobs.job",
    "Job": "vylux_core.jobs.job",
    "JobStatus": "vylux_core.jobs.job",
    "JobType": "vylux_core.jobs.job",
    "NewJob": "vylux_core.jobs.job",
    "AudioTranscodeOptions": "vylux_core.jobs.options",
    "CoverOptions": "vylux_core.jobs.options",
    "FullOptions": "vylux_core.jobs.options",
    "PreviewOptions": "vylux_core.jobs.options",
    "ThumbnailOptions": "vylux_core.jobs.options",
    "ThumbnailOutput": "vylux_core.jobs.options",
    "TranscodeOptions": "vylux_core.jobs.options",
    "WaveformOptions": "vylux_core.jobs.options",
    "canonical_options": "vylux_core.jobs.options",
    "decode_options": "vylux_core.jobs.options",
    "JobRequest": "vylux_core.jobs.request",
    "decode_job_request": "vylux_core.jobs.request",
    "ContentKey": "vylux_core.security.key_ring",
    "KeyRing": "vylux_core.security.key_ring",
    "WrappedKey": "vylux_core.security.key_ring",
    "parse_kek_config": "vylux_core.security.key_ring",
    "mint_key_token": "vylux_core.security.key_token",
    "verify_key_token": "vylux_core.security.key_token",
    "Variant": "vylux_core.media.ladder",
    "resolve_ladder": "vylux_core.media.ladder",
    "QueueAssignment": "vylux_core.jobs.queue_routing",
    "route_job": "vylux_core.jobs.queue_routing",
    "results_json": "vylux_core.jobs.results",
    "structure_results": "vylux_core.jobs.results",
    "unstructure_results": "vylux_core.jobs.results",
    "RetryRequests": "vylux_core.jobs.retry_requests",
    "build_retry_requests": "vylux_core.jobs.retry_requests",
    "JobLimits": "vylux_core.services",
    "JobService": "vylux_core.services",
    "RetrySubmission": "vylux_core.services",
    "Submission": "vylux_core.services",
    "UrlSigner": "vylux_core.security.signing",
    "canonical_object_key": "vylux_core.security.signing",
    "Lease": "vylux_core.jobs.task",
    "Task": "vylux_core.jobs.task",
}


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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if home == __name__:
        return importlib.import_module(f"{__name__}.{name}")
    return getattr(importlib.import_module(home), name)
