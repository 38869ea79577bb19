"""How long a test waits for a condition before it calls the wait a hang.

Tests never assert on elapsed time: they wait for the condition they mean (an event, a
status, a log line, an object in a bucket) and give up only at a deadline, which says
"this is hung", not "this is slow". Every such deadline is written as the time the wait
needs on an idle machine, with margin, and goes through :func:`scaled`, which multiplies
it by one factor: ``VYLUX_TEST_DEADLINE_FACTOR``, default 4, enough for the whole suite
on two cores running ``stress-ng --cpu 2`` and other work beside it (docs/reliability.md,
"Suite on a busy machine"). A slower machine raises the factor; nothing else changes.

A passing wait returns as soon as its condition holds, so a large factor costs time only
when a test fails. Fixed sleeps that prove something does *not* happen are not deadlines
and are not scaled. Timing targets (latency, throughput) belong in ``bench/``.
"""

from __future__ import annotations

import os

DEADLINE_FACTOR_ENV = "VYLUX_TEST_DEADLINE_FACTOR"
DEFAULT_DEADLINE_FACTOR = 4.0


def _factor() -> float:
    raw = os.environ.get(DEADLINE_FACTOR_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE_FACTOR
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"{DEADLINE_FACTOR_ENV} must be a number, got {raw!r}") from None
    if not factor >= 1.0:
        raise ValueError(f"{DEADLINE_FACTOR_ENV} must be at least 1, got {raw!r}")
    return factor


DEADLINE_FACTOR = _factor()


def scaled(seconds: float) -> float:
    """The deadline for a wait that takes at most ``seconds`` on an idle machine."""
    return seconds * DEADLINE_FACTOR
