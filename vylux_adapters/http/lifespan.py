"""The ASGI lifespan protocol, answered without doing anything."""

from __future__ import annotations

from starlette.types import Receive, Send


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge start-up and shutdown.

    Vylux's apps own no resources: whoever runs them (bootstrap, the worker) opens and
    closes those around the server. Answering keeps the server from logging that
    lifespan is unsupported.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
