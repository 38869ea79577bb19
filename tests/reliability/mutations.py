"""Structure-aware fuzzing: valid inputs built from drawn bytes, then damaged a few edits at a time.

Arbitrary text rarely gets past the first check of a parser; a valid input with one
fragment inserted, dropped, replaced or cut off reaches every later branch. Each fuzz
target has a builder that makes such an input from an :class:`Entropy`, the way
atheris' FuzzedDataProvider does: hypothesis draws one seed per example and every
choice comes from it. One draw per example keeps 10 000 examples within seconds: a
composite of lists and tuples costs ~1.5 ms per example in hypothesis' bookkeeping, and
``st.binary`` pays a boolean draw per byte. The price is a shrinker that cannot simplify
a seed, so each check puts the built input itself in its assertion message.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import strategies as st

S = TypeVar("S", str, bytes)
T = TypeVar("T")


class Entropy:
    """The choices of one example, from a seeded generator (one seed per example)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def below(self, bound: int) -> int:
        """An integer in ``[0, bound)``."""
        return self._random.randrange(bound) if bound > 1 else 0

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``; often an end of the range or a small value."""
        shape = self.below(4)
        if shape == 0:
            return self.pick((low, high, low + 1, high - 1))
        if shape == 1:
            return low + self.below(min(high - low + 1, 256))
        return self._random.randint(low, high)

    def text(self, alphabet: Sequence[str], max_size: int) -> str:
        return "".join(self.pick(alphabet) for _ in range(self.below(max_size + 1)))


def mutate(value: S, entropy: Entropy, pieces: Sequence[S], *, max_edits: int = 3) -> S:
    """``value`` after 0..``max_edits`` edits with fragments from ``pieces``."""
    for _ in range(entropy.below(max_edits + 1)):
        position = entropy.below(len(value) + 1)
        piece = entropy.pick(pieces)
        operation = entropy.below(5)
        if operation == 0:
            value = value[:position] + piece + value[position:]
        elif operation == 1:
            value = value[:position] + value[position + max(1, len(piece)) :]
        elif operation == 2:
            value = value[:position] + piece + value[position + len(piece) :]
        elif operation == 3:
            value = value[:position]
        else:  # a repeated slice: duplicated fields, doubled escapes
            value = value[:position] + value[position : position + 8] + value[position:]
    return value


def built(build: Callable[[Entropy], T]) -> st.SearchStrategy[T]:
    """The strategy of ``build``'s results, one drawn seed per example."""
    return st.integers(0, 2**64 - 1).map(lambda seed: build(Entropy(seed)))


def any_text(max_size: int = 80) -> st.SearchStrategy[str]:
    """Any code points, lone surrogates included (a JSON ``\\ud800`` escape makes one)."""
    surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())
    return st.text(st.characters(exclude_categories=()) | surrogate, max_size=max_size)
