"""``callback_url`` destinations: the SSRF guard at submission (D36) and its building blocks."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Any

import pytest

from tests.e2e.http_world import World, memory_world
from vylux_adapters.webhooks.destination import check_callback_destination
from vylux_core.errors import UnresolvableDestination, UnsafeDestination
from vylux_core.webhooks.callback_policy import is_public_address

THUMBNAIL = {"type": "image:thumbnail", "hash": "abcdef1234567890", "source": "uploads/a.png"}


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/cb",
        "http://127.0.0.1/cb",
        "http://127.1/cb",
        "http://10.1.2.3/cb",
        "http://192.168.0.10:8080/cb",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/cb",
        "http://0.0.0.0/cb",
        "http://224.0.0.1/cb",
        "http://[::1]/cb",
        "http://[::ffff:127.0.0.1]/cb",
        "http://[fe80::1]/cb",
        "http://[fd00::1]/cb",
        "http://[2002:a00:1::]/cb",
        "http://[64:ff9b::a00:1]/cb",
    ],
)
async def test_private_callback_urls_are_refused(world: World, url: str) -> None:
    response = await world.create_job({**THUMBNAIL, "callback_url": url})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "callback_url must not point to a private or loopback address"},
    )


@pytest.mark.parametrize("url", ["https://93.184.216.34/cb", "http://[2606:2800:220:1::]:8080/cb"])
async def test_public_literal_callback_needs_no_dns(world: World, url: str) -> None:
    response = await world.create_job({**THUMBNAIL, "callback_url": url})
    assert response.status_code == 202


async def test_private_callbacks_can_be_allowed() -> None:
    async with memory_world(http={"allow_private_callbacks": True}) as world:
        response = await world.create_job({**THUMBNAIL, "callback_url": "http://localhost:9/cb"})
    assert response.status_code == 202


def _resolver(*answers: str, delay: float = 0.0, error: OSError | None = None) -> Any:
    async def resolve(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(delay)
        if error is not None:
            raise error
        return list(answers)

    return resolve


async def test_guard_returns_the_vetted_addresses() -> None:
    addresses = await check_callback_destination(
        "https://hooks.example/cb", resolver=_resolver("93.184.216.34", "2606:2800:220:1::")
    )
    assert [str(a) for a in addresses] == ["93.184.216.34", "2606:2800:220:1::"]


@pytest.mark.parametrize(
    ("resolver", "error"),
    [
        pytest.param(
            _resolver("93.184.216.34", "10.0.0.1"), UnsafeDestination, id="one-private-is-enough"
        ),
        pytest.param(
            _resolver(error=socket.gaierror(-2, "Name or service not known")),
            UnresolvableDestination,
            id="nxdomain",
        ),
        pytest.param(_resolver("93.184.216.34", delay=5), UnresolvableDestination, id="timeout"),
        pytest.param(_resolver(), UnresolvableDestination, id="no-addresses"),
    ],
)
async def test_guard_refusals(resolver: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        await check_callback_destination(
            "https://hooks.example/cb", resolve_timeout=0.05, resolver=resolver
        )


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:2800:220:1::", True),
        ("::ffff:93.184.216.34", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("172.16.0.1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("ff02::1", False),
        ("fec0::1", False),
        ("2001:db8::1", False),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo, client 10.0.0.1
        ("64:ff9b:1::1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ip_address(address)) is public
