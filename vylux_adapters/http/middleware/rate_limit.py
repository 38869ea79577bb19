"""RateLimitMiddleware: fixed-window limits in front of a route."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

from attrs import frozen
from starlette.types import ASGIApp, Receive, Scope, Send

from vylux_adapters.http.client_ip import client_ip
from vylux_adapters.http.errors import too_many_requests
from vylux_adapters.http.settings import RateLimit
from vylux_core.errors import Unavailable
from vylux_core.ports.rate_limiter import RateLimiter

logger = logging.getLogger(__name__)

Identity = Callable[[Scope], str]
"""Who a request counts against; already hashed (raw credentials never reach a backend)."""

BEARER_PREFIX = b"Bearer "


def hash16(value: str | bytes) -> str:
    """First 16 hex characters of SHA-256 (``hash16("test-api-key") = 4c806362b613f749``)."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:16]


@frozen(kw_only=True)
class RateRule:
    limiter: str
    limit: RateLimit
    identity: Identity


class RateLimitMiddleware:
    """Checks each rule in order; the first exhausted one answers 429 with
    ``Retry-After`` from the limiter's decision. A limiter that is down lets the
    request through (fail open): an outage of Redis must not take the API down with
    it."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, rules: Sequence[RateRule]) -> None:
        self._app = app
        self._limiter = limiter
        self._rules = tuple(rules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        for rule in self._rules:
            try:
                decision = await self._limiter.hit(
                    rule.limiter, rule.identity(scope), rule.limit.limit, rule.limit.window_seconds
                )
            except Unavailable as error:
                logger.warning(
                    "rate limiter %s unavailable, letting through: %s", rule.limiter, error
                )
                continue
            if not decision.allowed:
                response = too_many_requests(scope, decision.retry_after_seconds)
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope["headers"] if key == name), b"")


def api_key_identity(scope: Scope) -> str:
    """The ``jobs`` limiter: per API key (runs after auth, so the key is valid)."""
    return hash16(_header(scope, b"x-api-key"))


def peer_identity(trusted_proxy_count: int) -> Identity:
    """Per client address, whatever credentials it presents: made-up tokens do not
    get around it (D37)."""

    def identity(scope: Scope) -> str:
        return hash16(client_ip(scope, trusted_proxy_count))

    return identity


def key_token_identity(trusted_proxy_count: int) -> Identity:
    """The ``key`` limiter: per bearer token, else per address."""

    def identity(scope: Scope) -> str:
        authorization = _header(scope, b"authorization")
        if authorization.startswith(BEARER_PREFIX):
            return "token:" + hash16(authorization[len(BEARER_PREFIX) :])
        return "ip:" + hash16(client_ip(scope, trusted_proxy_count))

    return identity
