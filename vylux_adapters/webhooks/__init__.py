"""Delivering webhooks over HTTP."""

from vylux_adapters.webhooks.httpx_sender import HttpxWebhookSender

__all__ = ["HttpxWebhookSender"]
