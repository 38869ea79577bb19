"""What the app hands to the middleware around it (metrics, tracing, logs) about a request.

Each fact has one reader and one writer here. The route template is the matched
Starlette route (``scope["route"]``, which each route sets when it matches); the
request id and the image outcome live under this module's keys of the ASGI ``scope``,
which every layer shares and Starlette passes on unchanged. Every fact is set before
the response starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen
from starlette.routing import Route
from starlette.types import Scope

from vylux_core.services import RenditionSource

if TYPE_CHECKING:
    from vylux_adapters.telemetry.metrics import ImageErrorStage

UNMATCHED = "unmatched"
"""The route label of a request no route matched."""

_REQUEST_ID = "vylux.request_id"
_IMAGE = "vylux.image"


@frozen
class ImageError:
    """A failed image request that counts in ``vylux_image_errors_total``."""

    stage: ImageErrorStage
    status: int


ImageOutcome = RenditionSource | ImageError
"""How an image request ended: where the rendition came from, or the failed stage.
Requests refused before a fetch (400/403) have none and record no image metrics."""


def route_template(scope: Scope) -> str:
    """The template of the route the router matched (``/img/:sig/:opts/*`` …), else
    ``unmatched``: the metrics ``route`` label and the span name."""
    route = scope.get("route")
    return route.path if isinstance(route, Route) else UNMATCHED


def set_request_id(scope: Scope, request_id: str) -> None:
    scope[_REQUEST_ID] = request_id


def request_id_of(scope: Scope) -> str:
    """The id answered in ``X-Request-Id`` (for log lines); ``-`` before it is known."""
    request_id: str = scope.get(_REQUEST_ID, "-")
    return request_id


def attach_image_outcome(scope: Scope, outcome: ImageOutcome) -> None:
    scope[_IMAGE] = outcome


def image_outcome_of(scope: Scope) -> ImageOutcome | None:
    outcome: ImageOutcome | None = scope.get(_IMAGE)
    return outcome
