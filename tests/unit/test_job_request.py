"""Job submissions: validation order and messages (§7.1.3) and the request fingerprint."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from vylux_core.errors import InvalidInput, InvalidJobRequest, InvalidOptions
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import PreviewOptions
from vylux_core.jobs.request import JobRequest, decode_job_request

SPEC_BODY: dict[str, Any] = {
    "type": "video:preview",
    "hash": "preview-sample-001",
    "source": "uploads/sample.mp4",
    "options": {"start_sec": 1, "duration": 3, "width": 480, "fps": 12, "format": "webp"},
    "callback_url": "https://app.example.com/internal/media/callback",
}
SPEC_DOCUMENT = (
    '{"type":"video:preview","hash":"preview-sample-001","source":"uploads/sample.mp4",'
    '"options":{"duration":3,"format":"webp","fps":12,"start_sec":1,"width":480}}'
)
SPEC_FINGERPRINT = "6dcb6c00dc12c7c270a27e3a71d059f419a98e055a0a004df653bd42e3380f73"


def body(**changes: Any) -> dict[str, Any]:
    """The spec body with some fields replaced (``None`` removes a field)."""
    merged = {**SPEC_BODY, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def test_spec_fingerprint_vector() -> None:
    request = decode_job_request(SPEC_BODY)

    assert hashlib.sha256(SPEC_DOCUMENT.encode()).hexdigest() == SPEC_FINGERPRINT
    assert request.fingerprint() == SPEC_FINGERPRINT
    assert request == JobRequest(
        type=JobType.PREVIEW,
        hash="preview-sample-001",
        source="uploads/sample.mp4",
        options=PreviewOptions(start_sec=1.0, duration=3.0, width=480, fps=12, format="webp"),
        callback_url="https://app.example.com/internal/media/callback",
    )


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(body(callback_url=None), True, id="callback-url-absent"),
        pytest.param(body(callback_url="http://other.example/cb"), True, id="callback-url-other"),
        pytest.param(
            body(
                options={"format": "webp", "fps": 12, "width": 480, "duration": 3, "start_sec": 1}
            ),
            True,
            id="options-key-order",
        ),
        pytest.param(
            body(
                options={
                    "start_sec": 1.0,
                    "duration": 3.0,
                    "width": 480,
                    "fps": 12,
                    "format": "webp",
                }
            ),
            True,
            id="integral-floats",
        ),
        pytest.param(
            body(options={"start_sec": 1, "duration": 3, "width": 480, "fps": 12}),
            False,
            id="format-omitted",
        ),
        pytest.param(body(hash="preview-sample-002"), False, id="other-hash"),
        pytest.param(body(source="uploads/other.mp4"), False, id="other-source"),
        pytest.param(body(type="video:cover", options=None), False, id="other-type"),
    ],
)
def test_fingerprint_covers_type_hash_source_and_canonical_options(
    other: dict[str, Any], same: bool
) -> None:
    assert (decode_job_request(other).fingerprint() == SPEC_FINGERPRINT) is same


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({"encrypt": False}, None, id="transcode-false-is-absent"),
        pytest.param({}, None, id="empty-is-null"),
    ],
)
def test_fingerprint_uses_canonical_options(first: Any, second: Any) -> None:
    def fingerprint(options: Any) -> str:
        return decode_job_request(
            {"type": "video:transcode", "hash": "h1", "source": "s.mp4", "options": options}
        ).fingerprint()

    assert fingerprint(first) == fingerprint(second)


# --- validation order and messages ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # JSON-level errors come before any field rule
        pytest.param([], "invalid JSON body", id="array-body"),
        pytest.param("text", "invalid JSON body", id="string-body"),
        pytest.param(body(extra=1), "invalid JSON body", id="unknown-top-level-field"),
        pytest.param(
            {**body(), "TYPE": "video:cover"}, "invalid JSON body", id="keys-are-case-sensitive"
        ),
        pytest.param(body(hash=5), "invalid JSON body", id="number-hash"),
        pytest.param(body(type=["video:cover"]), "invalid JSON body", id="array-type"),
        pytest.param(body(source=True), "invalid JSON body", id="bool-source"),
        pytest.param(body(callback_url=1), "invalid JSON body", id="number-callback-url"),
        pytest.param(
            body(type="video:nope", hash=5),
            "invalid JSON body",
            id="type-mismatch-before-type-rule",
        ),
        # 1. type
        pytest.param({}, 'unsupported job type: ""', id="empty-body"),
        pytest.param(
            body(type="video:nope", hash=None, source=None),
            'unsupported job type: "video:nope"',
            id="type-first",
        ),
        pytest.param(
            body(type="VIDEO:PREVIEW"),
            'unsupported job type: "VIDEO:PREVIEW"',
            id="type-is-case-sensitive",
        ),
        # 2. hash
        pytest.param(body(hash=None, source=None), "hash is required", id="hash-before-source"),
        pytest.param(body(hash="", callback_url="ftp://x"), "hash is required", id="empty-hash"),
        pytest.param(body(hash="a/b"), "hash must be 1-128 characters", id="hash-with-slash"),
        pytest.param(body(hash=".."), "hash must be 1-128 characters", id="hash-dotdot"),
        pytest.param(body(hash="a" * 129), "hash must be 1-128 characters", id="hash-129-chars"),
        pytest.param(body(hash="abc def"), "hash must be 1-128 characters", id="hash-with-space"),
        pytest.param(body(hash="é"), "hash must be 1-128 characters", id="hash-non-ascii"),
        # 3. source
        pytest.param(
            body(source=None, callback_url="ftp://x"),
            "source is required",
            id="source-before-callback",
        ),
        pytest.param(body(source=""), "source is required", id="empty-source"),
        pytest.param(body(source="a\x00b"), "source must not contain NUL", id="source-with-nul"),
        # 4. callback_url (U15)
        pytest.param(
            body(callback_url="ftp://x", options=[]),
            "callback_url must use http:// or https://",
            id="callback-before-options",
        ),
        pytest.param(
            body(callback_url="ftp://x"), "callback_url must use http:// or https://", id="u15-ftp"
        ),
        pytest.param(
            body(callback_url="example.com/cb"),
            "callback_url must use http:// or https://",
            id="no-scheme",
        ),
        pytest.param(
            body(callback_url="https:///callback"),
            "callback_url must include a host",
            id="u15-no-host",
        ),
        pytest.param(
            body(callback_url="http://:8080/cb"),
            "callback_url must include a host",
            id="port-without-host",
        ),
        pytest.param(
            body(callback_url="http://[::1/cb"),
            "callback_url must be a valid URL: ",
            id="unparsable",
        ),
        pytest.param(
            body(callback_url="http://x:port/"), "callback_url must be a valid URL: ", id="bad-port"
        ),
        pytest.param(
            body(callback_url="http://exa\nmple.com/cb"),
            "callback_url must be a valid URL: ",
            id="newline-in-url",
        ),
        pytest.param(
            body(callback_url="http://example.com\x00/cb"),
            "callback_url must be a valid URL: ",
            id="nul-in-url",
        ),
        # 5. options (U14 among them)
        pytest.param(
            body(type="video:full", options={"timestamp_sec": 1}),
            "invalid options: ",
            id="u14-full-flat-options",
        ),
        pytest.param(body(options={"format": "png"}), "invalid options: ", id="preview-bad-format"),
        pytest.param(body(options="fast"), "invalid options: ", id="options-not-an-object"),
    ],
)
def test_decode_rejects(raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_job_request(raw)

    want_class = InvalidOptions if message.startswith("invalid options") else InvalidJobRequest
    assert type(caught.value) is want_class
    assert caught.value.message.startswith(message)


HEX_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="spec-body"),
        pytest.param({"callback_url": ""}, id="u15-empty-callback"),
        pytest.param({"callback_url": "http://hooks.local:8080/cb"}, id="u15-http"),
        pytest.param({"callback_url": "https://hooks.example/cb"}, id="u15-https"),
        pytest.param({"callback_url": "HTTPS://Example.com/x?y=1"}, id="scheme-case-insensitive"),
        pytest.param({"callback_url": "https://[::1]:8443/cb"}, id="ipv6-callback-host"),
        pytest.param({"hash": HEX_HASH}, id="hex-hash"),
        pytest.param({"hash": "25b0dd17-9ef4-4512-baa4-5d80d2a55b41"}, id="uuid-hash"),
        pytest.param({"hash": "Movie_2026-04-01"}, id="slug-hash"),
        pytest.param({"hash": "a" * 128}, id="hash-128-chars"),
        pytest.param({"hash": "x"}, id="one-char-hash"),
        pytest.param({"source": "uploads/My Image (1).png"}, id="free-form-source"),
        pytest.param({"type": "video:full", "options": {"cover": {"timestamp_sec": 2}}}, id="full"),
        pytest.param({"type": "video:transcode", "options": {"encrypt": True}}, id="transcode"),
        pytest.param({"type": "video:cover", "options": {}}, id="cover"),
        pytest.param({"type": "image:thumbnail", "options": None}, id="thumbnail-no-options"),
    ],
)
def test_decode_accepts(changes: dict[str, Any]) -> None:
    raw = body(**changes)

    request = decode_job_request(raw)

    assert (request.type, request.hash, request.source, request.callback_url) == (
        JobType(raw["type"]),
        raw["hash"],
        raw["source"],
        raw.get("callback_url", ""),
    )


def test_null_fields_count_as_absent() -> None:
    raw = {"type": "video:cover", "hash": "h", "source": "s", "options": None, "callback_url": None}

    request = decode_job_request(raw)

    assert (request.canonical_options(), request.callback_url) == ({}, "")
