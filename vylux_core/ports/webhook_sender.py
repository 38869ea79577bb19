"""WebhookSender port: one HTTP delivery attempt of a signed callback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from attrs import frozen


@frozen(kw_only=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: Mapping[str, str]


@frozen(kw_only=True)
class DeliveryAttempt:
    """``delivered`` is True only for a 2xx answer; redirects are not followed."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None


class WebhookSender(Protocol):
    async def send(self, request: WebhookRequest) -> DeliveryAttempt:
        """POST once. Never raises for network or HTTP errors: they are reported in the
        attempt. Refuses destinations the deployment does not allow (private ranges)."""
        ...
