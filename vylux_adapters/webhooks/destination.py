"""Resolve a callback host and vet the answer against the callback policy.

The policy (which addresses are refused) is :mod:`vylux_core.callback_policy`; this
module applies it where DNS is: :func:`check_callback_destination` is the early refusal
at submission (the jobs API and ``vylux-cli jobs submit``) and the webhook sender's
check before every attempt.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable

from vylux_core.callback_policy import (
    RESOLVE_TIMEOUT_SECONDS,
    IpAddress,
    callback_endpoint,
    literal_address,
    refuse_private,
    resolved_addresses,
)
from vylux_core.errors import UnresolvableDestination

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
