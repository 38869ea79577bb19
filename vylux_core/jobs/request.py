"""A validated job submission and its request fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from vylux_core.errors import InvalidHash, InvalidJobRequest
from vylux_core.jobs.canonical_json import encode_canonical
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import JobOptions, canonical_options, decode_options
from vylux_core.media.media_hash import validate_media_hash
from vylux_core.webhooks.callback_policy import validate_callback_url

_FIELDS = ("type", "hash", "source", "options", "callback_url")


@frozen(kw_only=True)
class JobRequest:
    type: JobType
    hash: str
    source: str
    options: JobOptions
    callback_url: str = ""

    def canonical_options(self) -> dict[str, Any]:
        return canonical_options(self.options)

    def fingerprint(self) -> str:
        """SHA-256 of ``{"type","hash","source","options"}`` in that order (spec §7.1.4).

        ``callback_url`` is deliberately not part of it: the same work with another
        callback is the same work.
        """
        document = {
            "type": str(self.type),
            "hash": self.hash,
            "source": self.source,
            "options": self.canonical_options(),
        }
        encoded = encode_canonical(document, sort_keys=False)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def decode_job_request(body: Any) -> JobRequest:
    """Validate a decoded JSON body in the spec's order (§7.1.3).

    Unknown top-level fields and wrong JSON types raise ``invalid JSON body: …``;
    the later checks raise their own spec messages.
    """
    if not isinstance(body, Mapping):
        raise InvalidJobRequest("invalid JSON body: expected an object")
    for key in body:
        if key not in _FIELDS:
            raise InvalidJobRequest(f'invalid JSON body: unknown field "{key}"')
    type_text = _string_field(body, "type")
    hash_text = _string_field(body, "hash")
    source = _string_field(body, "source")
    callback_url = _string_field(body, "callback_url")
    try:
        job_type = JobType(type_text)
    except ValueError:
        raise InvalidJobRequest(f'unsupported job type: "{type_text}"') from None
    if not hash_text:
        raise InvalidJobRequest("hash is required")
    try:
        validate_media_hash(hash_text)
    except InvalidHash as exc:
        raise InvalidJobRequest(str(exc)) from None
    if not source:
        raise InvalidJobRequest("source is required")
    if "\x00" in source:
        raise InvalidJobRequest("source must not contain NUL characters")
    validate_callback_url(callback_url)
    options = decode_options(job_type, body.get("options"))
    return JobRequest(
        type=job_type, hash=hash_text, source=source, options=options, callback_url=callback_url
    )


def _string_field(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidJobRequest(f'invalid JSON body: field "{key}" must be a string')
    return value
