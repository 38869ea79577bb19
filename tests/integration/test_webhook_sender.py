"""HttpxWebhookSender against real sockets: DNS rebinding, redirects and TLS (spec §13.7).

Public addresses are not reachable here, and must not be: :class:`SimulatedInternet` is
the network backend under the sender's own pinning backend. It records every address
the sender dials and carries a dial of a "public" test address to a local server, so a
delivery to a public host can be observed end to end. Loopback is dialled for real: a
sender that reached it by resolving the name again would reach the internal receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from ipaddress import ip_address
from pathlib import Path

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.webhook_receiver import WebhookReceiver
from vylux_adapters.webhooks import HttpxWebhookSender
from vylux_adapters.webhooks.destination import PinnedNetworkBackend, PinnedTransport
from vylux_core.errors import UnsafeDestination
from vylux_core.ports.webhook_sender import WebhookRequest

PUBLIC = "93.184.216.34"
BODY = json.dumps({"job_id": "job-1", "status": "completed"}).encode()


class FlipResolver:
    """DNS as a rebinding attacker runs it: the n-th question gets the n-th answer
    (the last one from then on), whatever the name."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self._answers = answers
        self.questions: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.questions.append((host, port))
        return self._answers[min(len(self.questions), len(self._answers)) - 1]


class SimulatedInternet(httpcore.AsyncNetworkBackend):
    """Dials ``routes``' public addresses at local ports, loopback and names as they are
    (names through the system's resolver); any other address is unreachable. Records
    every dial."""

    def __init__(self, routes: dict[str, int] | None = None) -> None:
        self.routes = routes or {}
        self.dials: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dials.append((host, port))
        if host in self.routes:
            return await self._real.connect_tcp("127.0.0.1", self.routes[host], timeout=timeout)
        try:
            reachable = ip_address(host).is_loopback
        except ValueError:
            reachable = True  # a name: the system resolves it, as a sender that re-resolves
        if reachable:
            return await self._real.connect_tcp(host, port, timeout=timeout)
        raise httpcore.ConnectError(f"{host} is unreachable from tests")

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


@contextlib.asynccontextmanager
async def receiving(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(ssl_context=ssl_context)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@contextlib.asynccontextmanager
async def redirecting(location: str) -> AsyncIterator[int]:
    """A server that answers every request with ``307`` to ``location``; yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("ascii")
            )
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def sending(
    *,
    allow_private: bool,
    resolver: FlipResolver,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[HttpxWebhookSender]:
    sender = HttpxWebhookSender(
        allow_private=allow_private,
        resolver=resolver,
        network_backend=network_backend,
        ssl_context=ssl_context,
    )
    try:
        yield sender
    finally:
        await sender.aclose()


def hook(url: str) -> WebhookRequest:
    return WebhookRequest(url=url, body=BODY, headers={"Content-Type": "application/json"})


async def test_a_rebinding_name_is_delivered_to_the_address_that_was_vetted() -> None:
    """The name answers a public address, then loopback (TTL 0). The sender asks once
    and dials that public address; the loopback receiver hears nothing. ``localhost``
    also makes a sender that left resolution to the system reach the internal one."""
    async with receiving() as internal, receiving() as public:
        port = internal.port
        resolver = FlipResolver([PUBLIC], ["127.0.0.1"])
        internet = SimulatedInternet({PUBLIC: public.port})
        async with sending(
            allow_private=False, resolver=resolver, network_backend=internet
        ) as sender:
            attempt = await sender.send(hook(f"http://localhost:{port}/hook"))
    assert internal.deliveries == []
    assert (attempt.delivered, attempt.status_code) == (True, 204), attempt
    assert resolver.questions == [("localhost", port)]
    assert internet.dials == [(PUBLIC, port)]
    [delivery] = public.deliveries
    assert delivery.headers["host"] == f"localhost:{port}"
    assert delivery.body == BODY


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(["127.0.0.1"], id="loopback"),
        pytest.param([PUBLIC, "127.0.0.1"], id="public-and-loopback"),
        pytest.param(["::ffff:127.0.0.1"], id="v4-mapped-loopback"),
    ],
)
async def test_a_name_rebound_to_loopback_before_delivery_is_refused(answer: list[str]) -> None:
    """Vetted public at submission; at delivery the name answers loopback: no dial."""
    async with receiving() as internal:
        resolver = FlipResolver(answer)
        internet = SimulatedInternet()
        async with sending(
            allow_private=False, resolver=resolver, network_backend=internet
        ) as sender:
            attempt = await sender.send(hook(f"http://rebind.attacker.test:{internal.port}/hook"))
    assert not attempt.delivered
    assert attempt.error is not None
    assert "is not a public address" in attempt.error
    assert internet.dials == []
    assert internal.deliveries == []


async def test_a_redirect_to_loopback_is_not_followed() -> None:
    async with receiving() as internal, redirecting(internal.url) as redirector:
        internet = SimulatedInternet({PUBLIC: redirector})
        async with sending(
            allow_private=False, resolver=FlipResolver([PUBLIC]), network_backend=internet
        ) as sender:
            attempt = await sender.send(hook("http://hooks.example.test/cb"))
    assert (attempt.delivered, attempt.status_code, attempt.error) == (False, 307, "HTTP 307")
    assert internet.dials == [(PUBLIC, 80)]
    assert internal.deliveries == []


async def test_a_followed_redirect_is_vetted_again() -> None:
    """Should a client on this transport follow redirects, each hop is resolved and
    vetted like the first: the hop to loopback is refused before it is dialled."""
    async with receiving() as internal, redirecting(internal.url) as redirector:
        internet = SimulatedInternet({PUBLIC: redirector})
        transport = PinnedTransport(
            vet=True, resolver=FlipResolver([PUBLIC]), network_backend=internet
        )
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            with pytest.raises(UnsafeDestination, match=r"127\.0\.0\.1 is not a public address"):
                await client.post("http://hooks.example.test/cb", content=BODY)
    assert internet.dials == [(PUBLIC, 80)]
    assert internal.deliveries == []


async def test_the_network_backend_dials_nothing_that_was_not_vetted() -> None:
    internet = SimulatedInternet()
    with pytest.raises(httpcore.ConnectError, match="not a vetted webhook destination"):
        await PinnedNetworkBackend(internet).connect_tcp("127.0.0.1", 9)
    assert internet.dials == []


async def test_private_destinations_when_allowed_get_the_name_as_host() -> None:
    """``ALLOW_PRIVATE_CALLBACKS``: no vetting, but still one resolution, dialled as
    answered, over the real network backend; the request still names the host."""
    async with receiving() as receiver:
        port = receiver.port
        resolver = FlipResolver(["127.0.0.1"], [PUBLIC])
        async with sending(allow_private=True, resolver=resolver) as sender:
            attempt = await sender.send(hook(f"http://hooks.internal.test:{port}/hook"))
    assert (attempt.delivered, attempt.status_code) == (True, 204), attempt
    [delivery] = receiver.deliveries
    assert delivery.headers["host"] == f"hooks.internal.test:{port}"
    assert resolver.questions == [("hooks.internal.test", port)]


# --- HTTPS: the certificate is checked against the name, not the pinned address ---------------

NAME = "hooks.example.test"


def _certificates(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for NAME from a throwaway CA, and a client
    context that trusts only that CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vylux test CA")])
    ca_usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_usage, critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(chain)
    client = ssl.create_default_context(
        cadata=ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    )
    return server, client


@pytest.mark.parametrize(
    ("name", "delivered"),
    [pytest.param(NAME, True, id="certificate-for-the-name"), ("other.example.test", False)],
)
async def test_https_is_verified_against_the_name(
    tmp_path: Path, name: str, delivered: bool
) -> None:
    server_tls, client_tls = _certificates(tmp_path)
    async with receiving(server_tls) as public:
        internet = SimulatedInternet({PUBLIC: public.port})
        async with sending(
            allow_private=False,
            resolver=FlipResolver([PUBLIC]),
            network_backend=internet,
            ssl_context=client_tls,
        ) as sender:
            attempt = await sender.send(hook(f"https://{name}/hook"))
    assert internet.dials == [(PUBLIC, 443)]
    assert attempt.delivered is delivered, attempt
    if delivered:
        [delivery] = public.deliveries
        assert delivery.headers["host"] == NAME
    else:
        assert attempt.error is not None
        assert attempt.error.startswith("ConnectError")
        assert "certificate verify failed" in attempt.error
        assert public.deliveries == []
