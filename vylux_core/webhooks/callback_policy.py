"""Where a job's webhook may go (D36): the one policy for callback URLs.

The URL's shape and which addresses are refused are decided here, as pure functions.
The adapter that resolves names and connects (``vylux_adapters.webhooks.destination``)
applies them when a job is submitted (API and CLI), to tell the client at once, and
again on every delivery attempt, where the connection then goes to exactly the
addresses vetted here: DNS may answer differently each time it is asked (rebinding).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import urlsplit

from vylux_core.errors import InvalidJobRequest, UnresolvableDestination, UnsafeDestination

IpAddress = IPv4Address | IPv6Address

RESOLVE_TIMEOUT_SECONDS = 2.0
"""How long resolving a callback host may take before it counts as unresolvable."""

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Prefixes that carry an IPv4 address inside an IPv6 one: the IPv4 decides.
_NAT64 = IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215), not yet in the stdlib's private table on every version.
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_SHARED_V4 = IPv4Network("100.64.0.0/10")


def validate_callback_url(url: str) -> None:
    """Empty, or an absolute http(s) URL with a host (messages: spec §7.1.3)."""
    if not url:
        return
    # urlsplit silently drops tab/CR/LF and keeps NUL in the host: control characters are
    # refused before it sees them.
    if any(char < " " or char == "\x7f" for char in url):
        raise InvalidJobRequest(
            "callback_url must be a valid URL: invalid control character in URL"
        )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise InvalidJobRequest(f"callback_url must be a valid URL: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidJobRequest("callback_url must use http:// or https://")
    if not parts.hostname:
        raise InvalidJobRequest("callback_url must include a host")


def callback_endpoint(url: str) -> tuple[str, int]:
    """The host (lower case, IPv6 without brackets) and port a callback URL connects to."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise UnsafeDestination("", "no host")
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def literal_address(host: str) -> IpAddress | None:
    """The address a host spelled as a canonical IP literal names, else None.

    Odd spellings such as "127.1" or "0x7f000001" are no literal here: they go to the
    resolver, which parses them as the addresses a client would reach.
    """
    try:
        return ip_address(host)
    except ValueError:
        return None


def resolved_addresses(host: str, texts: Iterable[str]) -> tuple[IpAddress, ...]:
    """The addresses a resolver answered for ``host``, parsed; none at all is unresolvable."""
    addresses = []
    for text in texts:
        # getaddrinfo writes IPv6 scopes as "fe80::1%eth0"; the scope does not matter here.
        address = literal_address(text.split("%", 1)[0])
        if address is None:
            raise UnsafeDestination(host, f"resolver returned {text!r}")
        addresses.append(address)
    if not addresses:
        raise UnresolvableDestination(host, "no addresses")
    return tuple(addresses)


def refuse_private(host: str, addresses: Iterable[IpAddress]) -> None:
    """Raise UnsafeDestination when *any* address is not public: a client may pick any."""
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeDestination(host, f"{address} is not a public address")


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
