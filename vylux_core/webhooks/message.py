"""Webhook messages: the final outcome of a job, as its callback receives it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from vylux_core.jobs.job import Job, JobStatus
from vylux_core.jobs.results import Results, unstructure_results
from vylux_core.webhooks.signature import sign_webhook, sign_webhook_timestamped

USER_AGENT = "Vylux-Webhook/1.0"
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Vylux-Timestamp"
TIMESTAMPED_SIGNATURE_HEADER = "X-Vylux-Signature"


@frozen(kw_only=True)
class WebhookMessage:
    """One delivery to make. Its id is the job id: a job has one final outcome, so
    writing it twice (a re-run after a crash) cannot queue a second delivery."""

    id: str
    job_id: str
    url: str
    payload: bytes


@frozen(kw_only=True)
class OutboxEntry:
    message: WebhookMessage
    attempts: int
    created_at: datetime


def final_outcome_message(
    job: Job, status: JobStatus, *, error: str | None = None, results: Results | None = None
) -> WebhookMessage | None:
    """The message for ``job`` finishing in ``status``; None without a callback URL."""
    if not job.callback_url:
        return None
    body: dict[str, Any] = {
        "job_id": job.id,
        "type": str(job.type),
        "hash": job.hash,
        "status": str(status),
    }
    if error is not None:
        body["error"] = error
    if results is not None:
        body["results"] = unstructure_results(results)
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return WebhookMessage(id=job.id, job_id=job.id, url=job.callback_url, payload=payload)


def signed_headers(secret: str, payload: bytes, timestamp: int) -> Mapping[str, str]:
    """``X-Signature: sha256=<hmac(body)>`` for existing receivers plus a timestamped
    signature over ``"<timestamp>." + body`` that lets receivers refuse replays."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign_webhook(secret, payload),
        TIMESTAMP_HEADER: str(timestamp),
        TIMESTAMPED_SIGNATURE_HEADER: sign_webhook_timestamped(secret, timestamp, payload),
    }
