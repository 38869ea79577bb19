"""What the HTTP adapter leaves in the ASGI scope for outer middleware (metrics, tracing).

Every key is set before the response starts, so a middleware wrapping the whole app
can read it when it sees ``http.response.start`` or after the inner app returns. The
scope dict is shared by every layer (Starlette passes it on unchanged), which is what
makes this hand-over work without globals.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from vylux_core.services import RenditionSource

ROUTE = "vylux.route"
"""The matched route template (``/img/:sig/:opts/*`` …) or ``unmatched``: the metrics label."""

UNMATCHED = "unmatched"

IMAGE = "vylux.image"
"""Set by ``/img`` only: a :class:`RenditionSource` on success, an :class:`ImageError`
when the source fetch or the transform failed. Absent for 400/403 (no image metrics)."""

REQUEST_ID = "vylux.request_id"
"""The request id answered in ``X-Request-Id`` (for logs)."""

PATH_PARAMS = "path_params"
"""Starlette's own key, so ``Request.path_params`` sees the raw (still encoded) values."""


@frozen
class ImageError:
    """A failed ``/img`` request that counts in ``vylux_image_errors_total``."""

    stage: Literal["source_fetch", "process"]
    status: int


ImageOutcome = RenditionSource | ImageError

__all__ = [
    "IMAGE",
    "PATH_PARAMS",
    "REQUEST_ID",
    "ROUTE",
    "UNMATCHED",
    "ImageError",
    "ImageOutcome",
]
