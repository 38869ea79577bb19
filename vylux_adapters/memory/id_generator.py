"""SequentialIdGenerator: predictable ids for tests."""

from __future__ import annotations

import itertools


class SequentialIdGenerator:
    def __init__(self, prefix: str = "job") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter):06d}"
