"""Uuid4IdGenerator: lowercase random UUIDs, the job id format of the jobs API."""

from __future__ import annotations

import uuid


class Uuid4IdGenerator:
    def new_id(self) -> str:
        return str(uuid.uuid4())
