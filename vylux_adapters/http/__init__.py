"""The HTTP driving adapter: a Starlette application built from core services."""

from vylux_adapters.http.app import create_app
from vylux_adapters.http.callback_guard import (
    UnresolvableDestination,
    UnsafeDestination,
    check_callback_destination,
    is_public_address,
)
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings, RateLimit

__all__ = [
    "HttpServices",
    "HttpSettings",
    "RateLimit",
    "UnresolvableDestination",
    "UnsafeDestination",
    "check_callback_destination",
    "create_app",
    "is_public_address",
]
