"""The separate ``/healthz`` + ``/metrics`` listener of ``vylux-cli serve`` (METRICS_PORT)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from vylux_adapters.http import strict_h11
from vylux_cli import bootstrap, logging_setup


def start_metrics_listener(
    runtime: bootstrap.Runtime, host: str, port: int, shutdown: Callable[[], Awaitable[object]]
) -> asyncio.Task[None]:
    """Serves the process's metrics on ``host:port`` until ``shutdown`` returns.

    The same app as the worker's listener: a port that only ever answers ``/healthz``
    and ``/metrics``, so it can stay unpublished while the API port is public.
    """
    strict_h11.install()
    config = HypercornConfig()
    config.bind = [f"{host}:{port}"]
    logging_setup.route_hypercorn_logs(config)
    app = bootstrap.metrics_listener_app(runtime)
    return asyncio.create_task(
        hypercorn_serve(app, config, shutdown_trigger=shutdown)  # type: ignore[arg-type]
    )
