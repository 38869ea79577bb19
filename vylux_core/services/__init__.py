"""Application services: use cases driven by the HTTP server and the worker."""

from vylux_core.services.delivery_service import Delivery, DeliveryService
from vylux_core.services.image_service import (
    CachedDocument,
    CachedEntry,
    CachedRendition,
    Document,
    ImageLimits,
    ImageService,
    Rendition,
    RenditionSource,
    SourceFetchFailed,
)
from vylux_core.services.job_service import (
    JobLimits,
    JobService,
    RenditionCache,
    RetrySubmission,
    SourceInspector,
    Submission,
    task_for_job,
)
from vylux_core.services.key_service import KeyService
from vylux_core.services.readiness import Probe, ReadinessService

__all__ = [
    "CachedDocument",
    "CachedEntry",
    "CachedRendition",
    "Delivery",
    "DeliveryService",
    "Document",
    "ImageLimits",
    "ImageService",
    "JobLimits",
    "JobService",
    "KeyService",
    "Probe",
    "ReadinessService",
    "Rendition",
    "RenditionCache",
    "RenditionSource",
    "RetrySubmission",
    "SourceFetchFailed",
    "SourceInspector",
    "Submission",
    "task_for_job",
]
