"""The HTTP driving adapter: a Starlette application built from core services.

The package's names load on first use (PEP 562), so importing one light module of it
(``vylux_adapters.http.settings`` from the configuration) does not pull Starlette in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vylux_adapters.http.app import create_app
    from vylux_adapters.http.services import HttpServices
    from vylux_adapters.http.settings import HttpSettings, RateLimit

_HOMES = {
    "create_app": "vylux_adapters.http.app",
    "HttpServices": "vylux_adapters.http.services",
    "HttpSettings": "vylux_adapters.http.settings",
    "RateLimit": "vylux_adapters.http.settings",
}

__all__ = [
    "HttpServices",
    "HttpSettings",
    "RateLimit",
    "create_app",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
