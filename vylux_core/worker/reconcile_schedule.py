"""How often the reconciler runs and which recent jobs it leaves alone, by default; a
module of its own so the configuration can name them without importing the worker."""

from __future__ import annotations

from typing import Final

DEFAULT_RECONCILE_GRACE: Final = 30.0
DEFAULT_RECONCILE_INTERVAL: Final = 60.0
