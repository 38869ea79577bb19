"""A webhook receiver for tests: a bare HTTP/1.1 server on 127.0.0.1 that records every
delivery, and can refuse each job's first few with 503 to exercise the retries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Mapping

from attrs import frozen


@frozen
class Request:
    """One HTTP/1.1 request as a bare test server reads it."""

    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> Request:
    """Reads one request's head and its ``Content-Length`` body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)


@frozen
class Delivery:
    job_id: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    answered: int
    at: float  # time.monotonic()


class WebhookReceiver:
    """Refuses each job's first ``failures_per_job`` deliveries with 503 and accepts the
    rest with 204, recording all of them. With ``ssl_context`` it speaks HTTPS."""

    def __init__(
        self, *, failures_per_job: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.failures_per_job = failures_per_job
        self._ssl_context = ssl_context
        self.deliveries: list[Delivery] = []
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def for_job(self, job_id: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.job_id == job_id]

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self._ssl_context
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            job_id = str(json.loads(request.body).get("job_id", ""))
            status = 503 if len(self.for_job(job_id)) < self.failures_per_job else 204
            self.deliveries.append(
                Delivery(
                    job_id, request.path, request.headers, request.body, status, time.monotonic()
                )
            )
            reason = "Service Unavailable" if status == 503 else "No Content"
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode("ascii")
            )
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
