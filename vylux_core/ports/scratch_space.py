"""ScratchSpace port: private working directories for one attempt of a video job."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol


class ScratchSpace(Protocol):
    def task_directory(
        self, job_id: str, *, needed_bytes: int = 0
    ) -> AbstractAsyncContextManager[Path]:
        """A fresh empty directory for the attempt, removed with everything in it when
        the context exits — also on errors and cancellation.

        Raises ``Unavailable`` before creating anything when the file system has less
        than ``needed_bytes`` (plus a safety margin) free.
        """
        ...
