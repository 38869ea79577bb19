"""Starlette application factory."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

PLAIN_TEXT = "text/plain; charset=UTF-8"


async def healthz(_request: Request) -> Response:
    """Liveness only: answers as long as the process serves requests."""
    return PlainTextResponse("OK", media_type=PLAIN_TEXT)


def create_app() -> Starlette:
    """Build the application. Later issues pass the core services in here."""
    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"])])
