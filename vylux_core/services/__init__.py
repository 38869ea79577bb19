"""Application services: use cases driven by the HTTP server and the worker."""

from vylux_core.services.job_service import (
    JobLimits,
    JobService,
    RenditionCache,
    RetrySubmission,
    SourceInspector,
    Submission,
    task_for_job,
)

__all__ = [
    "JobLimits",
    "JobService",
    "RenditionCache",
    "RetrySubmission",
    "SourceInspector",
    "Submission",
    "task_for_job",
]
