"""Retry back-off: 10 s doubling per failed attempt, capped at an hour, plus jitter."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.jobs.retry_backoff import TASK_BACKOFF, Backoff
from vylux_core.worker.webhook_deliverer import WEBHOOK_BACKOFF

JITTER = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@pytest.mark.parametrize(
    ("retried", "jitter", "want"),
    [
        pytest.param(0, 0.0, 10.0, id="first-failure-base"),
        pytest.param(1, 0.0, 20.0, id="doubles"),
        pytest.param(2, 0.0, 40.0, id="doubles-again"),
        pytest.param(8, 0.0, 2560.0, id="last-below-cap"),
        pytest.param(9, 0.0, 3600.0, id="capped-at-an-hour"),
        pytest.param(25, 0.0, 3600.0, id="stays-capped"),
        pytest.param(10**6, 0.0, 3600.0, id="huge-retry-count-no-overflow"),
        pytest.param(0, 0.5, 12.5, id="jitter-adds-up-to-half"),
        pytest.param(9, 0.5, 4500.0, id="jitter-applies-after-cap"),
        pytest.param(3, 0.25, 90.0, id="quarter-jitter"),
    ],
)
def test_retry_delay(retried: int, jitter: float, want: float) -> None:
    assert TASK_BACKOFF.delay(retried, jitter) == pytest.approx(want)


@pytest.mark.parametrize(
    ("retried", "jitter", "message"),
    [
        pytest.param(-1, 0.0, "failed must not be negative", id="negative-failed"),
        pytest.param(0, -0.01, "jitter must be in", id="negative-jitter"),
        pytest.param(0, 1.0, "jitter must be in", id="jitter-one-excluded"),
        pytest.param(0, 1.5, "jitter must be in", id="jitter-above-one"),
        pytest.param(0, math.nan, "jitter must be in", id="nan-jitter"),
    ],
)
def test_argument_errors(retried: int, jitter: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TASK_BACKOFF.delay(retried, jitter)


@given(retried=st.integers(min_value=0, max_value=10_000), jitter=JITTER)
def test_jitter_bounds(retried: int, jitter: float) -> None:
    base = min(TASK_BACKOFF.first * 2.0 ** min(retried, 20), TASK_BACKOFF.ceiling)
    delay = TASK_BACKOFF.delay(retried, jitter)

    assert base <= delay <= 1.5 * base  # "up to half"; 1 - ulp jitter may round to 1.5
    assert delay <= 1.5 * TASK_BACKOFF.ceiling


@given(retried=st.integers(min_value=0, max_value=100), jitter=JITTER)
def test_never_shrinks_with_more_failures(retried: int, jitter: float) -> None:
    assert TASK_BACKOFF.delay(retried + 1, jitter) >= TASK_BACKOFF.delay(retried, jitter)


@pytest.mark.parametrize(
    ("attempts", "want"),
    [(0, 1.0), (1, 2.0), (2, 4.0), (11, 2048.0), (12, 3600.0), (10_000, 3600.0)],
)
def test_webhook_deliveries_back_off_by_the_same_policy_type(attempts: int, want: float) -> None:
    assert WEBHOOK_BACKOFF.delay(attempts) == want


def test_a_policy_without_spread_ignores_jitter() -> None:
    policy = Backoff(first=3.0, ceiling=100.0)
    assert policy.delay(2, 0.99) == policy.delay(2) == 12.0
    assert TASK_BACKOFF.delay(2, 0.5) == 40.0 * 1.25
