"""How much an ``/img`` render may take: source size, memory held by renders in flight,
the size of what it produces."""

from __future__ import annotations

from attrs import Factory, frozen

from vylux_core.images.result_budget import ResultBudget

DEFAULT_MAX_SOURCE_PIXELS = 100_000_000
"""Largest decoded source, width × height × frames: a decompression-bomb guard."""
DEFAULT_MAX_SOURCE_BYTES = 50 << 20
DEFAULT_SOURCE_BYTES_IN_FLIGHT = 256 << 20
DEFAULT_BUDGET_WAIT_SECONDS = 10.0


@frozen(kw_only=True)
class ImageLimits:
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES
    max_cache_object_bytes: int = 64 << 20
    result_budget: ResultBudget = Factory(ResultBudget)
    source_bytes_in_flight: int = DEFAULT_SOURCE_BYTES_IN_FLIGHT
    """Source bytes held in memory at once by every render of the process together."""
    budget_wait_seconds: float = DEFAULT_BUDGET_WAIT_SECONDS
    """How long a render waits for room in that budget before answering 503."""
    refusal_memory_seconds: float = 30.0
    """How long a refused render (422) of an unchanged source is answered from memory."""
