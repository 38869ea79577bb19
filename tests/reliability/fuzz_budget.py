"""The hostile-input fuzz budget: how many examples each fuzz test runs, and proof it ran them.

Every fuzz test of ``tests/reliability`` runs at least :data:`FUZZ_EXAMPLES` generated
inputs (10 000 by default, ``VYLUX_FUZZ_EXAMPLES`` scales it). Runs are derandomized so
CI sees the same inputs every time; ``VYLUX_FUZZ_RANDOM=1`` draws fresh ones (the mode
for long local runs). :func:`fuzz` counts the examples that actually reached the check,
so a strategy that silently filters everything away fails instead of passing vacuously.
Each target has two tests, one of arbitrary input and one structure-aware
(:mod:`tests.reliability.mutations`): mixing both in one ``one_of`` costs as much per
example as running them apart, and apart each kind gets the whole budget.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

FUZZ_EXAMPLES = int(os.environ.get("VYLUX_FUZZ_EXAMPLES", "10000"))

FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("VYLUX_FUZZ_RANDOM", "") != "1",
    database=None,
    # No explicit examples exist here and the shrinker only runs on failure.
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def fuzz(check: Callable[[T], None], strategy: SearchStrategy[T]) -> int:
    """Run ``check`` on ``FUZZ_EXAMPLES`` draws of ``strategy``; return how many ran.

    Raises AssertionError when fewer examples than the budget reached ``check``.
    """
    ran = 0

    @FUZZ_SETTINGS
    @given(strategy)
    def counted(value: T) -> None:
        nonlocal ran
        ran += 1
        check(value)

    counted()
    assert ran >= FUZZ_EXAMPLES, f"only {ran} of {FUZZ_EXAMPLES} examples reached the check"
    return ran
