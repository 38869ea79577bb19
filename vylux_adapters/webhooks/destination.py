"""Resolve a callback host once, vet the answer, and connect to exactly those addresses.

The policy (which addresses are refused) is :mod:`vylux_core.webhooks.callback_policy`; this
module applies it where DNS and sockets are. Two users:

- :func:`check_callback_destination`: the early refusal at submission (the jobs API and
  ``vylux-cli jobs submit``), so a client hears at once that its URL is unusable;
- :class:`PinnedTransport`: the webhook sender's httpx transport. Every request is
  resolved once, vetted, and the connection is dialled to the vetted addresses by
  :class:`PinnedNetworkBackend`, never by name. Resolving again at connect time would
  let a name answer a public address to the check and ``127.0.0.1`` to the connection
  (DNS rebinding, TTL 0). Only the dial uses the address: the request's origin stays the
  name, so the ``Host`` header, the TLS server name (SNI) and certificate verification
  are all for the name, and pooled connections are never shared between names.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx
from attrs import frozen

from vylux_core.errors import UnresolvableDestination
from vylux_core.webhooks.callback_policy import (
    DEFAULT_PORTS,
    RESOLVE_TIMEOUT_SECONDS,
    IpAddress,
    callback_endpoint,
    literal_address,
    refuse_private,
    resolved_addresses,
)

Resolver = Callable[[str, int], Awaitable[Iterable[str]]]
"""``(host, port) -> address texts``; the default asks the system via ``getaddrinfo``."""


async def check_callback_destination(
    url: str,
    *,
    resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS,
    resolver: Resolver | None = None,
) -> tuple[IpAddress, ...]:
    """The addresses ``url`` reaches, all of them public; else raise UnsafeDestination
    (UnresolvableDestination when the name does not resolve within ``resolve_timeout``)."""
    host, port = callback_endpoint(url)
    addresses = await resolve_host(host, port, resolve_timeout=resolve_timeout, resolver=resolver)
    refuse_private(host, addresses)
    return addresses


async def resolve_host(
    host: str, port: int, *, resolve_timeout: float, resolver: Resolver | None = None
) -> tuple[IpAddress, ...]:
    """A literal IP as is (no DNS); a name through ``resolver``, within ``resolve_timeout``."""
    literal = literal_address(host)
    if literal is not None:
        return (literal,)
    try:
        async with asyncio.timeout(resolve_timeout):
            texts = await (resolver or system_resolver)(host, port)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UnresolvableDestination(host, f"cannot be resolved: {exc}") from exc
    return resolved_addresses(host, texts)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


# --- connecting to the vetted addresses only -----------------------------------------------


@frozen
class _Pin:
    host: str
    port: int
    addresses: tuple[IpAddress, ...]


# Set by PinnedTransport around one request; httpcore dials a new connection in the task
# that sends the request, so the backend below sees the pin of the request it dials for.
_PIN: ContextVar[_Pin | None] = ContextVar("vylux_webhook_pin", default=None)


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Dials the addresses vetted for the request being sent, in the resolver's order,
    and refuses any other destination (fails closed without a pin)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        pin = _PIN.get()
        if pin is None or (pin.host, pin.port) != (host, port):
            raise httpcore.ConnectError(f"{host}:{port} is not a vetted webhook destination")
        failure: Exception | None = None
        for address in pin.addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # a pin holds at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that resolves each request's host once, refuses it when any
    address is not public (unless ``vet`` is off), and connects to those addresses only.

    Raises UnsafeDestination (or UnresolvableDestination) before any connection is made;
    library failures become the usual ``httpx`` exceptions.
    """

    def __init__(
        self,
        *,
        vet: bool,
        resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._vet = vet
        self._resolve_timeout = resolve_timeout
        self._resolver = resolver
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            network_backend=PinnedNetworkBackend(network_backend),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        # The host exactly as httpcore will ask the backend to dial it (IDNA, no brackets).
        host = url.raw_host.decode("ascii")
        port = url.port or DEFAULT_PORTS.get(url.scheme, 80)
        addresses = await resolve_host(
            host, port, resolve_timeout=self._resolve_timeout, resolver=self._resolver
        )
        if self._vet:
            refuse_private(host, addresses)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        token = _PIN.set(_Pin(host, port, addresses))
        try:
            with _httpx_errors():
                response = await self._pool.handle_async_request(core_request)
        finally:
            _PIN.reset(token)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


# Most specific first: the first match wins.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _ERRORS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise
