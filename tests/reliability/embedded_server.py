"""The production app of the embedded profile, in-process: what ``vylux-cli serve`` runs
with no ``DATABASE_URL`` (SQLite, local source and media directories, SQL queue,
libvips), built by ``vylux_cli.bootstrap`` itself in a temporary data directory.

Hostile-input tests use it where the real backend decides the outcome: libvips for
decompression bombs and SVG, the local-directory store for ``..`` and absolute keys.
Everything else runs on the in-memory world of tests/e2e/http_world.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from attrs import frozen
from starlette.types import ASGIApp, Message

from vylux_cli import bootstrap
from vylux_cli.config import Config
from vylux_core.security.signing import UrlSigner

BASE = "http://vylux.test"


@frozen(kw_only=True)
class EmbeddedServer:
    app: ASGIApp
    client: httpx.AsyncClient
    runtime: bootstrap.Runtime
    data_dir: Path

    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def signer(self) -> UrlSigner:
        return UrlSigner(secret=self.config.secrets.hmac_secret)

    @property
    def api(self) -> dict[str, str]:
        return {"X-API-Key": self.config.secrets.api_key}

    def put_source(self, key: str, data: bytes) -> None:
        """A plain file in the source directory is an object of the local store."""
        path = self.data_dir / "source" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    @asynccontextmanager
    async def worker(self) -> AsyncIterator[None]:
        """``vylux-cli work`` on the same runtime, running until the block ends."""
        async with bootstrap.build_worker(self.runtime) as worker:
            running = asyncio.create_task(worker.run())
            try:
                yield
            finally:
                worker.stop()
                await running

    async def raw_get(self, raw_path: bytes) -> tuple[int, bytes]:
        """GET with exactly this path: httpx would resolve ``..`` before sending."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": raw_path.decode("latin-1"),
            "raw_path": raw_path,
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"vylux.test")],
            "client": ("127.0.0.1", 50000),
            "server": ("vylux.test", 80),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@asynccontextmanager
async def embedded_server(data_dir: Path, **settings: str) -> AsyncIterator[EmbeddedServer]:
    """``vylux-cli serve``'s app on a fresh data directory (secrets generated there);
    ``settings`` are further configuration variables."""
    config = bootstrap.load_runtime_config({"VYLUX_DATA_DIR": str(data_dir), **settings})
    async with (
        bootstrap.open_runtime(config) as runtime,
        bootstrap.build_server(runtime) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        yield EmbeddedServer(app=app, client=client, runtime=runtime, data_dir=data_dir)
