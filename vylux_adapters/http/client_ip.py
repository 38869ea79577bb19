"""Who is calling: the socket peer, or the client named by our own trusted proxies."""

from __future__ import annotations

from ipaddress import ip_address

from starlette.types import Scope

_FORWARDED_FOR = b"x-forwarded-for"


def client_ip(scope: Scope, trusted_proxy_count: int) -> str:
    """The caller's address for rate limiting.

    With ``trusted_proxy_count`` = 0 it is the socket peer.
    With N trusted proxies, each appends the address it received the request from to
    ``X-Forwarded-For``, so the client is the N-th entry from the right: anything left
    of it was written by the client and cannot be trusted. A malformed entry falls
    back to the peer rather than letting free text become an identity.
    """
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    if trusted_proxy_count <= 0:
        return peer
    entries = [
        entry.strip()
        for name, value in scope["headers"]
        if name == _FORWARDED_FOR
        for entry in value.decode("latin-1").split(",")
        if entry.strip()
    ]
    if not entries:
        return peer
    candidate = entries[max(0, len(entries) - trusted_proxy_count)]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return peer
