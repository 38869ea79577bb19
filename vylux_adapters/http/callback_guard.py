"""Refuse webhook destinations inside our own network (SSRF, spec §13.7).

Used when a job is submitted, and meant to be used again by the webhook sender right
before it connects: DNS can change in between (rebinding), so only the check at
connect time protects the request, while the early check tells the client at once.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import urlsplit

IpAddress = IPv4Address | IPv6Address

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> address texts``; the default asks the system via ``getaddrinfo``."""

# Prefixes that carry an IPv4 address inside an IPv6 one: the IPv4 decides.
_NAT64 = IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215), not yet in the stdlib's private table on every version.
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_SHARED_V4 = IPv4Network("100.64.0.0/10")


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address that is not publicly routable."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"callback host {host!r}: {reason}")
        self.host = host


class UnresolvableDestination(UnsafeDestination):
    """The host name did not resolve in time (or at all): nothing could be delivered."""


async def check_callback_destination(
    url: str, *, resolve_timeout: float = 2.0, resolver: Resolver | None = None
) -> tuple[IpAddress, ...]:
    """The addresses ``url`` reaches, all of them public; else raise UnsafeDestination.

    A literal IP needs no DNS. A name is resolved (within ``resolve_timeout`` seconds)
    and refused if *any* address is private: a client may pick any of them.
    The caller should connect to one of the returned addresses, not resolve again.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise UnsafeDestination("", "no host")
    literal = _literal(host)
    if literal is not None:
        addresses: tuple[IpAddress, ...] = (literal,)
    else:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = await _resolve(host, port, resolve_timeout, resolver or _system_resolver)
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeDestination(host, f"{address} is not a public address")
    return addresses


def is_public_address(address: IpAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved,
    unspecified, documentation or multicast, also when wrapped in IPv6."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local or address in _NAT64_LOCAL:
            return False
    elif address in _SHARED_V4:
        return False
    # is_global alone passes IPv6's reserved blocks, ::/8 among them: the deprecated
    # IPv4-compatible "::127.0.0.1" is no public address (6in4 tunnels route it on).
    return address.is_global and not address.is_multicast and not address.is_reserved


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _literal(host: str) -> IpAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        # Not a canonical literal. Odd spellings such as "127.1" or "0x7f000001" go to
        # getaddrinfo, which parses them as the addresses a client would reach.
        return None


async def _resolve(
    host: str, port: int, resolve_timeout: float, resolver: Resolver
) -> tuple[IpAddress, ...]:
    try:
        async with asyncio.timeout(resolve_timeout):
            texts = await resolver(host, port)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UnresolvableDestination(host, f"cannot be resolved: {exc}") from exc
    addresses = []
    for text in texts:
        # getaddrinfo writes IPv6 scopes as "fe80::1%eth0"; the scope does not matter here.
        address = _literal(text.split("%", 1)[0])
        if address is None:
            raise UnsafeDestination(host, f"resolver returned {text!r}")
        addresses.append(address)
    if not addresses:
        raise UnresolvableDestination(host, "no addresses")
    return tuple(addresses)


async def _system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]
