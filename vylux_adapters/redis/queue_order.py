"""The order in which a worker tries its queues: weighted, random, without repeats."""

from __future__ import annotations

import random
from collections.abc import Mapping


def weighted_order(weights: Mapping[str, int], rng: random.Random) -> list[str]:
    """Queues in random order, each next one drawn with probability ∝ its weight.

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
