"""HMAC-SHA256 signatures on outbound webhook bodies, as receivers verify them."""

from __future__ import annotations

import hashlib
import hmac

DEFAULT_TOLERANCE_SECONDS = 300


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value: ``sha256=`` + hex HMAC of the raw body."""
    return "sha256=" + _hex_hmac(secret, body)


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    return _same(sign_webhook(secret, body), signature)


def sign_webhook_timestamped(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` + hex HMAC of ``"<timestamp>." + body``.

    ``X-Signature`` covers the body only, so a captured delivery can be
    replayed forever; binding the send time lets receivers refuse stale copies.
    """
    return "v1=" + _hex_hmac(secret, f"{timestamp}.".encode("ascii") + body)


def verify_webhook_timestamped(
    secret: str,
    timestamp: int,
    body: bytes,
    signature: str,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``signature`` matches and ``timestamp`` is within the tolerance of ``now``.

    The window is symmetric because sender and receiver clocks drift either way.
    """
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return _same(sign_webhook_timestamped(secret, timestamp, body), signature)


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    # Bytes, because compare_digest rejects non-ASCII str instead of returning False.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "surrogatepass"))
