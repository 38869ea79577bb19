"""IdGenerator port: job ids come from here, never from ``uuid4()`` in a service."""

from __future__ import annotations

from typing import Protocol


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique id: a lowercase UUID string in production."""
        ...
