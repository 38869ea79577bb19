"""The first path segments the service's own routes use, so that a configurable
prefix (the imgproxy route family's) can be refused when it would collide."""

from __future__ import annotations

from typing import Final

CONTRACT_ROOTS: Final = frozenset(
    {
        "img",
        "original",
        "thumb",
        "stream",
        "api",
        "healthz",
        "readyz",
        "metrics",
        "openapi.json",
        "dashboard",
    }
)
