"""The HTTP driving adapter: a Starlette application built from core services.

The package's names load on first use (PEP 562), so importing one light module of it
(``vylux_adapters.http.settings`` from the configuration) does not pull Starlette in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vylux_core.lazy_exports import lazy_attribute

if TYPE_CHECKING:
    from vylux_adapters.http.app import create_app
    from vylux_adapters.http.services import HttpServices
    from vylux_adapters.http.settings import HttpSettings, RateLimit

_attribute = lazy_attribute(
    __name__,
    {
        "vylux_adapters.http.app": ("create_app",),
        "vylux_adapters.http.services": ("HttpServices",),
        "vylux_adapters.http.settings": (
            "HttpSettings",
            "RateLimit",
        ),
    },
)

__all__ = [
    "HttpServices",
    "HttpSettings",
    "RateLimit",
    "create_app",
]


def __getattr__(name: str) -> Any:
    return _attribute(name)
