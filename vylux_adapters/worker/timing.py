"""The worker pool's default lease and shutdown grace, in a module of their own so the
configuration can name them without importing the pool."""

from __future__ import annotations

from typing import Final

DEFAULT_LEASE_SECONDS: Final = 30.0
DEFAULT_SHUTDOWN_TIMEOUT: Final = 600.0
