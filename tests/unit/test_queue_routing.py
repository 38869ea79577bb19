"""Queue routing by job type and source size (§7.1.6, U18)."""

from __future__ import annotations

import random

import pytest

from vylux_core.jobs.job import JobType
from vylux_core.jobs.queue_routing import (
    CRITICAL,
    DEFAULT,
    IMAGE_TIMEOUT_SECONDS,
    VIDEO_LARGE,
    VIDEO_TIMEOUT_SECONDS,
    route_job,
    weighted_queue_order,
)

THRESHOLD = 5_368_709_120  # the default LARGE_FILE_THRESHOLD, 5 GiB


@pytest.mark.parametrize(
    ("job_type", "size", "want"),
    [
        pytest.param(JobType.TRANSCODE, THRESHOLD - 1, (DEFAULT, 3), id="u18-below-threshold"),
        pytest.param(JobType.TRANSCODE, THRESHOLD, (VIDEO_LARGE, 2), id="u18-at-threshold"),
        pytest.param(JobType.TRANSCODE, THRESHOLD + 1, (VIDEO_LARGE, 2), id="u18-above-threshold"),
        pytest.param(JobType.TRANSCODE, 0, (DEFAULT, 3), id="transcode-empty-source"),
        pytest.param(JobType.FULL, THRESHOLD - 1, (DEFAULT, 3), id="full-below-threshold"),
        pytest.param(JobType.FULL, THRESHOLD, (VIDEO_LARGE, 2), id="full-at-threshold"),
        pytest.param(JobType.FULL, 10 * THRESHOLD, (VIDEO_LARGE, 2), id="full-above-threshold"),
        pytest.param(JobType.THUMBNAIL, 0, (CRITICAL, 3), id="thumbnail-critical"),
        pytest.param(JobType.THUMBNAIL, 10 * THRESHOLD, (CRITICAL, 3), id="thumbnail-ignores-size"),
        pytest.param(JobType.COVER, 0, (DEFAULT, 3), id="cover-default"),
        pytest.param(JobType.COVER, 10 * THRESHOLD, (DEFAULT, 3), id="cover-ignores-size"),
        pytest.param(JobType.PREVIEW, 0, (DEFAULT, 3), id="preview-default"),
        pytest.param(JobType.PREVIEW, THRESHOLD, (DEFAULT, 3), id="preview-ignores-size"),
        pytest.param(JobType.STORYBOARD, THRESHOLD, (DEFAULT, 3), id="storyboard-ignores-size"),
    ],
)
def test_route_job(job_type: JobType, size: int, want: tuple[str, int]) -> None:
    assignment = route_job(job_type, size, THRESHOLD)

    want_timeout = IMAGE_TIMEOUT_SECONDS if job_type is JobType.THUMBNAIL else VIDEO_TIMEOUT_SECONDS
    assert (assignment.queue, assignment.max_retry) == want
    assert assignment.timeout_seconds == want_timeout


@pytest.mark.parametrize(
    ("threshold", "size", "want_queue"),
    [
        pytest.param(4, 3, DEFAULT, id="small-threshold-below"),
        pytest.param(4, 4, VIDEO_LARGE, id="small-threshold-equal"),
        pytest.param(1, 1, VIDEO_LARGE, id="threshold-one"),
    ],
)
def test_threshold_is_a_parameter(threshold: int, size: int, want_queue: str) -> None:
    assert route_job(JobType.TRANSCODE, size, threshold).queue == want_queue


def test_weighted_order_serves_each_positive_queue_once() -> None:
    order = weighted_queue_order({CRITICAL: 6, DEFAULT: 3, VIDEO_LARGE: 0}, random.Random(1))

    assert sorted(order) == [CRITICAL, DEFAULT]


def test_weighted_order_draws_the_heavier_queue_first_more_often() -> None:
    rng = random.Random(7)
    firsts = [weighted_queue_order({CRITICAL: 6, DEFAULT: 3}, rng)[0] for _ in range(900)]

    # Expected 600 of 900 (6/9); 500 is more than five standard deviations (~14) below.
    assert firsts.count(CRITICAL) > 500
    assert firsts.count(DEFAULT) > 200
