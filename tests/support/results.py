"""Typed job results for tests: what a workflow returns and a JobStore takes."""

from __future__ import annotations

from vylux_core.jobs.job import JobType
from vylux_core.jobs.results import (
    Artifacts,
    FullResult,
    FullStage,
    FullStages,
    ImageArtifact,
    RetryPlan,
    RetryStrategy,
    SkipReason,
    Stage,
    StageErrorCode,
    StageStatus,
    ThumbnailOutputResult,
    ThumbnailResult,
)


def image_artifact(key: str = "videos/ab/hash/cover.jpg", *, size: int = 9) -> ImageArtifact:
    """A ``video:cover`` / ``video:preview`` result; the format is the key's extension."""
    return ImageArtifact(key=key, format=key.rsplit(".", 1)[-1], size=size)


def thumbnails(*keys: str) -> ThumbnailResult:
    """An ``image:thumbnail`` result, one rendition per key (its variant is the file name)."""
    return tuple(
        ThumbnailOutputResult(
            variant=key.rsplit("/", 1)[-1].split(".")[0], key=key,
            format=key.rsplit(".", 1)[-1], size=9,
        )
        for key in keys or ("images/ab/hash/thumb.webp",)
    )  # fmt: skip


def failed_full_result(
    strategy: RetryStrategy = RetryStrategy.RETRY_TASKS,
    *job_types: JobType,
    allowed: bool = True,
    stages: tuple[FullStage, ...] = (),
) -> FullResult:
    """A failed ``video:full`` result whose cover and preview failed (the transcode was
    blocked by them), with the given retry plan."""
    failed = Stage(StageStatus.FAILED, error_code=StageErrorCode.EXTRACT_FAILED, retryable=True)
    return FullResult(
        stages=FullStages(
            source=Stage(StageStatus.READY),
            cover=failed,
            preview=failed,
            transcode=Stage(StageStatus.SKIPPED, reason=SkipReason.BLOCKED_BY_FAILED_DEPENDENCIES),
        ),
        artifacts=Artifacts(),
        retry_plan=RetryPlan(
            allowed=allowed, strategy=strategy, job_types=job_types, stages=stages
        ),
    )
