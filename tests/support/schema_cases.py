"""Schemathesis cases for the OpenAPI suites, generated the same way in each of them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case
from schemathesis.generation.modes import GenerationMode


def for_each_case(
    operation: APIOperation, mode: GenerationMode, max_examples: int, act: Callable[[Case], None]
) -> None:
    """Runs ``act`` on up to ``max_examples`` cases of ``operation`` in ``mode``: the same
    cases on every run (derandomized, no example database), without deadline or health
    checks."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        act(case)

    # Unsatisfiable: nothing to negate (no parameters, or plain strings only).
    with contextlib.suppress(Unsatisfiable):
        run()
