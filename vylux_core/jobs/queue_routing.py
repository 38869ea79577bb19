"""Which queue a job goes to, with how many retries and how long an attempt may run, and
the order in which a worker tries its queues."""

from __future__ import annotations

import random
from collections.abc import Mapping

from attrs import frozen

from vylux_core.jobs.job import JobType

CRITICAL = "critical"
DEFAULT = "default"
VIDEO_LARGE = "video:large"

# Weighted random order of the main pool (asynq's non-strict priority); `video:large`
# has a pool of its own so one huge upload never starves thumbnails.
MAIN_POOL_WEIGHTS = {CRITICAL: 6, DEFAULT: 3}
LARGE_POOL_WEIGHTS = {VIDEO_LARGE: 1}


def weighted_queue_order(weights: Mapping[str, int], rng: random.Random) -> list[str]:
    """Queues in random order without repeats, each next one drawn with probability ∝ its
    weight among those not yet drawn. Every task queue adapter tries its queues in this order.

    Queues with a weight of zero or less are never served.
    """
    remaining = {queue: weight for queue, weight in weights.items() if weight > 0}
    order: list[str] = []
    while remaining:
        queues = list(remaining)
        chosen = rng.choices(queues, weights=[remaining[queue] for queue in queues])[0]
        order.append(chosen)
        del remaining[chosen]
    return order


# A transcode can take hours, so video attempts get hours (D13); leases still detect a
# dead worker within seconds through heartbeats.
IMAGE_TIMEOUT_SECONDS = 10 * 60
VIDEO_TIMEOUT_SECONDS = 6 * 3600


@frozen
class QueueAssignment:
    queue: str
    max_retry: int
    timeout_seconds: int


def attempt_timeout(job_type: JobType) -> int:
    """How long one attempt of ``job_type`` may run before it counts as failed."""
    return IMAGE_TIMEOUT_SECONDS if job_type is JobType.THUMBNAIL else VIDEO_TIMEOUT_SECONDS


def route_job(job_type: JobType, source_size: int, large_file_threshold: int) -> QueueAssignment:
    """Route by type, and by source size for the types that are preflighted.

    ``source_size`` is 0 for types without a preflight.
    """
    timeout = attempt_timeout(job_type)
    if job_type is JobType.THUMBNAIL:
        return QueueAssignment(CRITICAL, 3, timeout)
    if job_type.needs_source_preflight and source_size >= large_file_threshold:
        return QueueAssignment(VIDEO_LARGE, 2, timeout)
    return QueueAssignment(DEFAULT, 3, timeout)
