"""Job statuses and types: the full transition table, activity, terminality, preflight."""

from __future__ import annotations

import pytest

from vylux_core.errors import IllegalTransition
from vylux_core.jobs.job import JobStatus, JobType, can_transition, check_transition

Q = JobStatus.QUEUED
P = JobStatus.PROCESSING
C = JobStatus.COMPLETED
F = JobStatus.FAILED
X = JobStatus.CANCELED

# Every (current, target) pair of the 5x5 table, with whether it is legal. `failed` is
# terminal in this service (it is written only when no attempt is left), unlike the
# reference's failed -> processing flip.
TRANSITIONS = [
    pytest.param(Q, Q, False, id="queued-to-queued"),
    pytest.param(Q, P, True, id="queued-to-processing"),
    pytest.param(Q, C, False, id="queued-to-completed-skips-processing"),
    pytest.param(Q, F, True, id="queued-to-failed"),
    pytest.param(Q, X, True, id="queued-to-canceled"),
    pytest.param(P, Q, True, id="processing-to-queued-lease-handed-back"),
    pytest.param(P, P, True, id="processing-to-processing-reattempt"),
    pytest.param(P, C, True, id="processing-to-completed"),
    pytest.param(P, F, True, id="processing-to-failed"),
    pytest.param(P, X, True, id="processing-to-canceled"),
    pytest.param(C, Q, False, id="completed-to-queued"),
    pytest.param(C, P, False, id="completed-to-processing"),
    pytest.param(C, C, False, id="completed-to-completed"),
    pytest.param(C, F, False, id="completed-to-failed"),
    pytest.param(C, X, False, id="completed-to-canceled"),
    pytest.param(F, Q, False, id="failed-to-queued"),
    pytest.param(F, P, False, id="failed-to-processing-no-reference-flip"),
    pytest.param(F, C, False, id="failed-to-completed"),
    pytest.param(F, F, False, id="failed-to-failed"),
    pytest.param(F, X, False, id="failed-to-canceled"),
    pytest.param(X, Q, False, id="canceled-to-queued"),
    pytest.param(X, P, False, id="canceled-to-processing"),
    pytest.param(X, C, False, id="canceled-to-completed"),
    pytest.param(X, F, False, id="canceled-to-failed"),
    pytest.param(X, X, False, id="canceled-to-canceled"),
]


def test_transition_table_covers_every_pair() -> None:
    pairs = {(param.values[0], param.values[1]) for param in TRANSITIONS}
    assert pairs == {(a, b) for a in JobStatus for b in JobStatus}


@pytest.mark.parametrize(("current", "target", "allowed"), TRANSITIONS)
def test_can_transition(current: JobStatus, target: JobStatus, allowed: bool) -> None:
    raised: IllegalTransition | None = None
    try:
        check_transition("job-1", current, target)
    except IllegalTransition as exc:
        raised = exc

    assert can_transition(current, target) is allowed
    assert (raised is None) is allowed
    if raised is not None:
        assert str(raised) == f"job job-1: cannot go from {current} to {target}"


@pytest.mark.parametrize(
    ("status", "active", "terminal"),
    [
        pytest.param(Q, True, False, id="queued-active"),
        pytest.param(P, True, False, id="processing-active"),
        pytest.param(C, True, True, id="completed-active-and-terminal"),
        pytest.param(F, False, True, id="failed-frees-fingerprint"),
        pytest.param(X, False, True, id="canceled-frees-fingerprint"),
    ],
)
def test_status_activity_and_terminality(status: JobStatus, active: bool, terminal: bool) -> None:
    assert (status.is_active, status.is_terminal) == (active, terminal)


@pytest.mark.parametrize(
    ("job_type", "preflight"),
    [
        pytest.param(JobType.THUMBNAIL, False, id="thumbnail"),
        pytest.param(JobType.COVER, False, id="cover"),
        pytest.param(JobType.PREVIEW, False, id="preview"),
        pytest.param(JobType.TRANSCODE, True, id="transcode"),
        pytest.param(JobType.FULL, True, id="full"),
        pytest.param(JobType.STORYBOARD, False, id="storyboard"),
    ],
)
def test_needs_source_preflight(job_type: JobType, preflight: bool) -> None:
    assert job_type.needs_source_preflight is preflight


def test_terminal_statuses_have_no_way_out() -> None:
    terminal = [status for status in JobStatus if status.is_terminal]
    assert terminal == [C, F, X]
    assert not any(can_transition(t, target) for t in terminal for target in JobStatus)
