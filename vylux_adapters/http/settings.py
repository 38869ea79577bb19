"""HttpSettings: the knobs of the HTTP adapter, read by bootstrap from the configuration."""

from __future__ import annotations

from attrs import field, frozen, validators

from vylux_core.webhooks.callback_policy import RESOLVE_TIMEOUT_SECONDS

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_BODY_READ_TIMEOUT = 30.0
DEFAULT_TRUSTED_PROXY_COUNT = 0
DEFAULT_STREAM_CORS_ALLOWED_ORIGINS: tuple[str, ...] = ("*",)


@frozen(kw_only=True)
class RateLimit:
    """``limit`` requests per epoch-aligned window of ``window_seconds``."""

    limit: int = field(validator=validators.ge(1))
    window_seconds: int = field(default=60, validator=validators.ge(1))


DEFAULT_JOBS_RATE_LIMIT = RateLimit(limit=30)
DEFAULT_KEY_RATE_LIMIT = RateLimit(limit=120)
DEFAULT_KEY_IP_RATE_LIMIT = RateLimit(limit=300)


@frozen(kw_only=True)
class HttpSettings:
    """Everything the routes and middleware need besides the services.

    ``body_read_timeout`` is how many seconds a request body may take to arrive whole
    (``BODY_READ_TIMEOUT``); later than that is a 408.

    ``trusted_proxy_count`` is how many reverse proxies in front of us append to
    ``X-Forwarded-For``; 0 means the socket peer is the client, which rate-limits a
    whole proxy as one client (D37).
    """

    api_key: str = field(repr=False, validator=validators.min_len(1))
    max_body_bytes: int = field(default=DEFAULT_MAX_BODY_BYTES, validator=validators.ge(0))
    body_read_timeout: float = field(default=DEFAULT_BODY_READ_TIMEOUT, validator=validators.gt(0))
    allow_private_callbacks: bool = False
    callback_resolve_timeout: float = field(
        default=RESOLVE_TIMEOUT_SECONDS, validator=validators.gt(0)
    )
    jobs_rate_limit: RateLimit = DEFAULT_JOBS_RATE_LIMIT
    key_rate_limit: RateLimit = DEFAULT_KEY_RATE_LIMIT
    key_ip_rate_limit: RateLimit = DEFAULT_KEY_IP_RATE_LIMIT
    trusted_proxy_count: int = field(
        default=DEFAULT_TRUSTED_PROXY_COUNT, validator=validators.ge(0)
    )
    # CORS origins (exact origins, or "*" alone for any): none for /api/key/*, any for
    # /stream/* (public, cacheable HLS files that players fetch from other origins).
    cors_allowed_origins: tuple[str, ...] = ()
    stream_cors_allowed_origins: tuple[str, ...] = DEFAULT_STREAM_CORS_ALLOWED_ORIGINS
    # The operator dashboard at /dashboard (DASHBOARD_ENABLED).
    dashboard_enabled: bool = False
