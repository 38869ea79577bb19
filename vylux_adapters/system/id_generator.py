"""Uuid4IdGenerator: lowercase random UUIDs, the reference's job id format."""

from __future__ import annotations

import uuid


class Uuid4IdGenerator:
    def new_id(self) -> str:
        return str(uuid.uuid4())
