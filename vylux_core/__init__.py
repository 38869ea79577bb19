"""Vylux core: the pure domain and application services of the media service.

Embed it by handing adapters (``vylux_adapters.memory`` for tests, the real ones
for production) to the services; nothing here performs I/O on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vylux_core import errors
    from vylux_core.byte_lru import ByteLRU
    from vylux_core.image_options import (
        ImageFormat,
        ImageOptions,
        parse_format,
        parse_image_options,
        processing_hash,
    )
    from vylux_core.job import CallbackStatus, Job, JobStatus, JobType, NewJob
    from vylux_core.job_options import (
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
    from vylux_core.job_request import JobRequest, decode_job_request
    from vylux_core.key_ring import ContentKey, KeyRing, WrappedKey, parse_kek_config
    from vylux_core.key_token import mint_key_token, verify_key_token
    from vylux_core.ladder import Variant, resolve_ladder
    from vylux_core.queue_routing import QueueAssignment, route_job
    from vylux_core.results import results_json, structure_results, unstructure_results
    from vylux_core.retry_requests import RetryRequests, build_retry_requests
    from vylux_core.services import JobLimits, JobService, RetrySubmission, Submission
    from vylux_core.signing import UrlSigner, canonical_object_key
    from vylux_core.task import Lease, Task

# Public name -> the module that defines it. Names load on first use (PEP 562), so a
# program that needs one module of the core does not pay for importing all of it.
_HOMES = {
    "errors": "vylux_core",
    "ByteLRU": "vylux_core.byte_lru",
    "ImageFormat": "vylux_core.image_options",
    "ImageOptions": "vylux_core.image_options",
    "parse_format": "vylux_core.image_options",
    "parse_image_options": "vylux_core.image_options",
    "processing_hash": "vylux_core.image_options",
    "CallbackStatus": "vylux_core.job",
    "Job": "vylux_core.job",
    "JobStatus": "vylux_core.job",
    "JobType": "vylux_core.job",
    "NewJob": "vylux_core.job",
    "AudioTranscodeOptions": "vylux_core.job_options",
    "CoverOptions": "vylux_core.job_options",
    "FullOptions": "vylux_core.job_options",
    "PreviewOptions": "vylux_core.job_options",
    "ThumbnailOptions": "vylux_core.job_options",
    "ThumbnailOutput": "vylux_core.job_options",
    "TranscodeOptions": "vylux_core.job_options",
    "WaveformOptions": "vylux_core.job_options",
    "canonical_options": "vylux_core.job_options",
    "decode_options": "vylux_core.job_options",
    "JobRequest": "vylux_core.job_request",
    "decode_job_request": "vylux_core.job_request",
    "ContentKey": "vylux_core.key_ring",
    "KeyRing": "vylux_core.key_ring",
    "WrappedKey": "vylux_core.key_ring",
    "parse_kek_config": "vylux_core.key_ring",
    "mint_key_token": "vylux_core.key_token",
    "verify_key_token": "vylux_core.key_token",
    "Variant": "vylux_core.ladder",
    "resolve_ladder": "vylux_core.ladder",
    "QueueAssignment": "vylux_core.queue_routing",
    "route_job": "vylux_core.queue_routing",
    "results_json": "vylux_core.results",
    "structure_results": "vylux_core.results",
    "unstructure_results": "vylux_core.results",
    "RetryRequests": "vylux_core.retry_requests",
    "build_retry_requests": "vylux_core.retry_requests",
    "JobLimits": "vylux_core.services",
    "JobService": "vylux_core.services",
    "RetrySubmission": "vylux_core.services",
    "Submission": "vylux_core.services",
    "UrlSigner": "vylux_core.signing",
    "canonical_object_key": "vylux_core.signing",
    "Lease": "vylux_core.task",
    "Task": "vylux_core.task",
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
