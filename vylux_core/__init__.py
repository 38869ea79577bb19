"""Vylux core: the pure domain and application services of the media service.

Embed it by handing adapters (``vylux_adapters.memory`` for tests, the real ones
for production) to the services; nothing here performs I/O on its own.
"""

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
    CoverOptions,
    FullOptions,
    PreviewOptions,
    ThumbnailOptions,
    ThumbnailOutput,
    TranscodeOptions,
    canonical_options,
    decode_options,
)
from vylux_core.job_request import JobRequest, decode_job_request
from vylux_core.key_ring import ContentKey, KeyRing, WrappedKey, parse_kek_config
from vylux_core.key_token import mint_key_token, verify_key_token
from vylux_core.ladder import Variant, resolve_ladder
from vylux_core.queue_routing import QueueAssignment, route_job
from vylux_core.results import structure_results, unstructure_results
from vylux_core.retry_requests import RetryRequests, build_retry_requests
from vylux_core.services import JobLimits, JobService, RetrySubmission, Submission
from vylux_core.signing import UrlSigner, canonical_object_key
from vylux_core.task import Lease, Task

__all__ = [
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
    "route_job",
    "structure_results",
    "unstructure_results",
    "verify_key_token",
]
