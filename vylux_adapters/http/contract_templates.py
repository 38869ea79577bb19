"""The templates of the service's own routes, so that a configurable prefix (the
imgproxy route family's) can be refused when its routes would take their paths.

The route table builds the same templates; a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

CONTRACT_TEMPLATES: Final = (
    "/img/:sig/:opts/*",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/original/:sig/*",
    "/thumb/:sig/*",
    "/stream/:hash/*",
    "/api/key/:hash",
    "/api/key/:hash/clearkey",
    "/api/jobs",
    "/api/jobs/:id",
    "/api/jobs/:id/retry",
    "/api/jobs/:id/cancel",
    "/api/media/:hash",
    "/dashboard/api/media/:id",
    "/dashboard/api/queues",
    "/dashboard/api/archived",
    "/dashboard/api/archived/:id/requeue",
    "/dashboard/api/archived/:queue/:id",
    "/dashboard",
    "/dashboard/static/:name",
)


def overlapping_template(prefix: str) -> str | None:
    """The first of :data:`CONTRACT_TEMPLATES` that some path under ``prefix`` (a
    ``{prefix}/{signature}/…`` rendition or info URL) would also match, else None."""
    family = [*_segments(prefix), ":sig", "*"]
    for template in CONTRACT_TEMPLATES:
        if _overlap(family, _segments(template)):
            return template
    return None


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether one path can match both segment templates (``:name`` is one segment,
    ``*`` the rest)."""
    for x, y in zip(a, b, strict=False):
        if x == "*" or y == "*":
            return True
        if not (x.startswith(":") or y.startswith(":") or x == y):
            return False
    return len(a) == len(b)
