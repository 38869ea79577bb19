"""Running a request and reporting how it ended, for the layers that count or log it."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def run_observed(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    observe: Callable[[int, float], None],
) -> None:
    """Runs the HTTP request through ``app``, then calls ``observe(status, seconds)``
    however it ended. A request that ends before any response started (an exception
    that escaped every layer) is observed as 500, what the server answers for it."""
    started = time.perf_counter()
    status = 0

    async def send_noting_status(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, send_noting_status)
    finally:
        observe(status or 500, time.perf_counter() - started)
