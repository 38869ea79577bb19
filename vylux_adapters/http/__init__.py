"""The HTTP driving adapter: a Starlette application built from core services."""

from vylux_adapters.http.app import create_app
from vylux_adapters.http.services import HttpServices
from vylux_adapters.http.settings import HttpSettings, RateLimit

__all__ = [
    "HttpServices",
    "HttpSettings",
    "RateLimit",
    "create_app",
]
