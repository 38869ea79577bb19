"""Application services: use cases driven by the HTTP server and the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vylux_core.lazy_exports import lazy_attribute

if TYPE_CHECKING:
    from vylux_core.images.limits import ImageLimits
    from vylux_core.jobs.limits import JobLimits
    from vylux_core.services.delivery_service import Delivery, DeliveryService
    from vylux_core.services.image_service import (
        CachedDocument,
        CachedEntry,
        CachedRendition,
        Document,
        ImageService,
        Rendition,
        RenditionSource,
        SourceFetchFailed,
    )
    from vylux_core.services.job_service import (
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

_attribute = lazy_attribute(
    __name__,
    {
        "vylux_core.images.limits": ("ImageLimits",),
        "vylux_core.jobs.limits": ("JobLimits",),
        "vylux_core.services.delivery_service": (
            "Delivery",
            "DeliveryService",
        ),
        "vylux_core.services.image_service": (
            "CachedDocument",
            "CachedEntry",
            "CachedRendition",
            "Document",
            "ImageService",
            "Rendition",
            "RenditionSource",
            "SourceFetchFailed",
        ),
        "vylux_core.services.job_service": (
            "JobService",
            "RenditionCache",
            "RetrySubmission",
            "SourceInspector",
            "Submission",
            "task_for_job",
        ),
        "vylux_core.services.key_service": ("KeyService",),
        "vylux_core.services.readiness": (
            "Probe",
            "ReadinessService",
        ),
    },
)


def __getattr__(name: str) -> Any:
    return _attribute(name)
