"""Reaching the real services tests need, and what happens when one is down.

Locally a test whose service cannot be reached is skipped with the reason. With
``VYLUX_REQUIRE_SERVICES=1`` (set by ``.ci/run``) it fails instead, so CI can never
pass by silently skipping the PostgreSQL, Redis or S3 tests.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

REQUIRE_SERVICES_ENV = "VYLUX_REQUIRE_SERVICES"


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower() in ("1", "true", "yes")


def service_unavailable(service: str, reason: str) -> NoReturn:
    message = f"{service} is not reachable: {reason}"
    if services_required():
        pytest.fail(f"{message} ({REQUIRE_SERVICES_ENV} is set, so this is a failure)")
    pytest.skip(message)


def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> str | None:
    """None if a TCP connection succeeds, else the reason it did not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc}"
