"""The HTTP driving adapter: a Starlette application built from core services."""

from vylux_adapters.http.app import create_app

__all__ = ["create_app"]
