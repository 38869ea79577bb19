"""WebhookSender contract: one POST, its outcome reported and never raised.

The httpx sender talks to a local HTTP server started by the test, whose paths decide
the answer (``/status/<code>``, ``/hang``); the recording fake is scripted with the same
answers. Both are given loopback URLs, so the private-range refusal applies to both.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from http import HTTPStatus
from typing import Protocol

import pytest
from attrs import frozen

from tests.support.webhook_receiver import Request, read_request
from vylux_adapters.memory import RecordingWebhookSender
from vylux_adapters.memory.webhook_sender import NO_ANSWER
from vylux_adapters.webhooks import HttpxWebhookSender, httpx_sender
from vylux_core.ports.webhook_sender import DeliveryAttempt, WebhookRequest, WebhookSender

# How long the real sender waits for an answer in the test of a destination that never
# answers (the other tests keep the sender's own timeout).
SHORT_ANSWER_TIMEOUT_SECONDS = 1.0


@frozen(kw_only=True)
class SenderSettings:
    allow_private: bool = True
    answer_timeout: float | None = None
    """Seconds the sender waits for an answer; None keeps the adapter's default."""


class WebhookWorld(Protocol):
    sender: WebhookSender

    def answering(self, status: int) -> str:
        """A URL whose next POST is answered with ``status``."""
        ...

    def hanging(self) -> str:
        """A URL that takes the request and never answers."""
        ...

    def refusing(self) -> str:
        """A URL nothing listens on."""
        ...

    def received(self) -> list[Request]:
        """The requests that reached the destinations, in order."""
        ...


WebhookWorldFactory = Callable[
    [SenderSettings, pytest.FixtureRequest], AbstractAsyncContextManager[WebhookWorld]
]


class LocalServer:
    """A bare HTTP/1.1 server on 127.0.0.1 that answers by path."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            self.requests.append(request)
            path = request.path
            if path == "/hang":
                await self._release.wait()
                return
            status = int(path.removeprefix("/status/"))
            location = "Location: /status/204\r\n" if 300 <= status < 400 else ""
            writer.write(
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{location}"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("ascii")
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client gave up
        finally:
            writer.close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HttpxWorld:
    def __init__(self, sender: HttpxWebhookSender, server: LocalServer) -> None:
        self.sender = sender
        self._server = server

    def answering(self, status: int) -> str:
        return f"{self._server.base}/status/{status}"

    def hanging(self) -> str:
        return f"{self._server.base}/hang"

    def refusing(self) -> str:
        return f"http://127.0.0.1:{unused_port()}/hook"

    def received(self) -> list[Request]:
        return list(self._server.requests)


class RecordingWorld:
    BASE = "http://127.0.0.1:8080"

    def __init__(self, sender: RecordingWebhookSender) -> None:
        self.sender = sender
        self._fake = sender

    def answering(self, status: int) -> str:
        self._fake.script(status)
        return f"{self.BASE}/status/{status}"

    def hanging(self) -> str:
        self._fake.script(NO_ANSWER)
        return f"{self.BASE}/hang"

    def refusing(self) -> str:
        self._fake.script(NO_ANSWER)
        return f"{self.BASE}/refused"

    def received(self) -> list[Request]:
        return [
            Request(
                "POST",
                request.url.removeprefix(self.BASE),
                {name.lower(): value for name, value in request.headers.items()},
                request.body,
            )
            for request in self._fake.requests
        ]


@asynccontextmanager
async def httpx_world(
    settings: SenderSettings, request: pytest.FixtureRequest
) -> AsyncIterator[WebhookWorld]:
    server = LocalServer()
    await server.start()
    sender = HttpxWebhookSender(
        allow_private=settings.allow_private,
        request_timeout=settings.answer_timeout or httpx_sender.REQUEST_TIMEOUT_SECONDS,
    )
    try:
        yield HttpxWorld(sender, server)
    finally:
        await sender.aclose()
        await server.stop()


@asynccontextmanager
async def recording_world(
    settings: SenderSettings, _request: pytest.FixtureRequest
) -> AsyncIterator[WebhookWorld]:
    yield RecordingWorld(RecordingWebhookSender(allow_private=settings.allow_private))


WEBHOOK_SENDER_FACTORIES = [
    pytest.param(httpx_world, id="httpx"),
    pytest.param(recording_world, id="recording"),
]


@pytest.fixture(params=WEBHOOK_SENDER_FACTORIES)
def factory(request: pytest.FixtureRequest) -> WebhookWorldFactory:
    chosen: WebhookWorldFactory = request.param
    return chosen


@pytest.fixture
async def world(
    factory: WebhookWorldFactory, request: pytest.FixtureRequest
) -> AsyncIterator[WebhookWorld]:
    async with factory(SenderSettings(), request) as adapter:
        yield adapter


BODY = b'{"job_id":"job-1","status":"completed"}'
HEADERS = {
    "Content-Type": "application/json",
    "X-Vylux-Signature": "sha256=0123abcd",
    "X-Vylux-Event": "job.completed",
}


def hook(url: str) -> WebhookRequest:
    return WebhookRequest(url=url, body=BODY, headers=HEADERS)


def failed(attempt: DeliveryAttempt) -> bool:
    return (
        not attempt.delivered
        and isinstance(attempt.error, str)
        and attempt.error != ""
        and len(attempt.error) <= 500
    )


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_a_2xx_answer_is_a_delivery(world: WebhookWorld, status: int) -> None:
    attempt = await world.sender.send(hook(world.answering(status)))

    assert attempt == DeliveryAttempt(delivered=True, status_code=status, error=None)


async def test_the_request_is_one_post_with_the_body_and_headers(world: WebhookWorld) -> None:
    url = world.answering(204)

    await world.sender.send(hook(url))

    [received] = world.received()
    assert received.method == "POST"
    assert received.path == "/status/204"
    assert received.body == BODY
    assert {name.lower(): value for name, value in HEADERS.items()}.items() <= (
        received.headers.items()
    )


@pytest.mark.parametrize("status", [400, 404, 410, 500, 502, 503])
async def test_an_error_answer_is_a_failed_attempt(world: WebhookWorld, status: int) -> None:
    attempt = await world.sender.send(hook(world.answering(status)))

    assert attempt.status_code == status
    assert failed(attempt), attempt
    assert len(world.received()) == 1  # one attempt, no retry inside the sender


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_not_followed(world: WebhookWorld, status: int) -> None:
    attempt = await world.sender.send(hook(world.answering(status)))

    assert attempt.status_code == status
    assert failed(attempt), attempt
    assert [r.path for r in world.received()] == [f"/status/{status}"]


async def test_a_refused_connection_is_a_failed_attempt(world: WebhookWorld) -> None:
    attempt = await world.sender.send(hook(world.refusing()))

    assert attempt.status_code is None
    assert failed(attempt), attempt


async def test_no_answer_in_time_is_a_failed_attempt(
    factory: WebhookWorldFactory, request: pytest.FixtureRequest
) -> None:
    settings = SenderSettings(answer_timeout=SHORT_ANSWER_TIMEOUT_SECONDS)
    async with factory(settings, request) as world:
        attempt = await world.sender.send(hook(world.hanging()))

    assert attempt.status_code is None
    assert failed(attempt), attempt


async def test_a_failed_attempt_leaves_the_sender_usable(world: WebhookWorld) -> None:
    first = await world.sender.send(hook(world.refusing()))
    second = await world.sender.send(hook(world.answering(500)))
    third = await world.sender.send(hook(world.answering(204)))

    assert (first.delivered, second.delivered, third.delivered) == (False, False, True)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(None, id="loopback-server"),
        pytest.param("http://10.0.0.7/hook", id="private"),
        pytest.param("http://169.254.169.254/latest/meta-data", id="link-local"),
        pytest.param("http://[::1]:8080/hook", id="loopback-v6"),
    ],
)
async def test_private_destinations_are_refused_unless_allowed(
    factory: WebhookWorldFactory, request: pytest.FixtureRequest, url: str | None
) -> None:
    async with factory(SenderSettings(allow_private=False), request) as world:
        attempt = await world.sender.send(hook(url or world.answering(204)))
        received = world.received()

    assert attempt.status_code is None
    assert failed(attempt), attempt
    assert received == []
