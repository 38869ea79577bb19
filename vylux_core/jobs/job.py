"""Jobs: their types, statuses, legal status transitions and the stored record."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

from vylux_core.errors import IllegalTransition

if TYPE_CHECKING:
    # `results` declares its classes by job type, so it imports this module at runtime.
    from vylux_core.jobs.results import StoredResults


class JobType(enum.StrEnum):
    THUMBNAIL = "image:thumbnail"
    COVER = "video:cover"
    PREVIEW = "video:preview"
    TRANSCODE = "video:transcode"
    FULL = "video:full"
    # video:full's storyboard stage on its own: what a retry plan re-runs.
    STORYBOARD = "video:storyboard"
    AUDIO_TRANSCODE = "audio:transcode"

    @property
    def needs_source_preflight(self) -> bool:
        """Only these types HEAD the source at submission (they may be routed by size)."""
        return self in (JobType.TRANSCODE, JobType.FULL, JobType.AUDIO_TRANSCODE)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_active(self) -> bool:
        """Active jobs own their request fingerprint (completed counts, per spec §7.1.5)."""
        return self not in (JobStatus.FAILED, JobStatus.CANCELED)

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class CallbackStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "callback_failed"


# `failed` is terminal (D11): it is written only when the queue has no attempt left, so
# a job never flips failed -> processing -> completed. A manual retry creates new jobs
# instead. `processing -> queued` is a task handed back on shutdown or a lease that
# expired; `processing -> processing` is a re-attempt after a worker died.
_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.CANCELED, JobStatus.FAILED}),
    JobStatus.PROCESSING: frozenset(
        {
            JobStatus.PROCESSING,
            JobStatus.QUEUED,
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
        }
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in _TRANSITIONS[current]


def check_transition(job_id: str, current: JobStatus, target: JobStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> target`` is allowed."""
    if not can_transition(current, target):
        raise IllegalTransition(f"job {job_id}: cannot go from {current} to {target}")


@frozen(kw_only=True)
class NewJob:
    """What a JobStore needs to insert a job (status starts as ``queued``)."""

    id: str
    type: JobType
    hash: str
    source: str
    options: dict[str, Any]
    request_fingerprint: str
    callback_url: str = ""
    retry_of_job_id: str | None = None
    queue: str = "default"
    max_retry: int = 3


@frozen(kw_only=True)
class Job:
    """A job row as stored; ``options`` is plain JSON, ``results`` the job type's value
    (stores decode it on read, see :func:`vylux_core.jobs.results.read_stored_results`)."""

    id: str
    type: JobType
    hash: str
    source: str
    options: dict[str, Any]
    request_fingerprint: str
    status: JobStatus
    progress: int
    callback_url: str
    callback_status: CallbackStatus
    retry_of_job_id: str | None
    error: str | None
    results: StoredResults | None
    queue: str
    max_retry: int
    created_at: datetime
    updated_at: datetime
