"""``POST /api/jobs`` bodies under 10 000+ hostile inputs per test: the strict JSON decoder
(vylux_adapters/http/strict_json.py) and the request validation behind it
(vylux_core/jobs/request.py, jobs/options.py) only ever raise ``InvalidJobRequest`` or
``InvalidOptions`` (400), with a message that can be sent as JSON; what they accept has
a valid hash, a NUL-free source, options whose canonical form decodes to the same
fingerprint, and only text that encodes to UTF-8 (so it can be stored and echoed).

The table tests live in tests/e2e/test_http_jobs.py and tests/unit/test_job_request.py;
these are the large-budget versions over arbitrary bytes and damaged valid bodies.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.reliability.fuzz_budget import fuzz
from tests.reliability.mutations import Entropy, built, mutate
from vylux_adapters.http.strict_json import parse_json_body
from vylux_core.errors import InvalidJobRequest, InvalidOptions
from vylux_core.jobs.canonical_json import encode_canonical
from vylux_core.jobs.request import JobRequest, decode_job_request

pytestmark = [pytest.mark.reliability]

_HASH = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PREFIXES = ("invalid JSON body", "invalid options", "unsupported job type", "hash ", "source ")


def submitted(body: bytes) -> JobRequest | InvalidJobRequest | InvalidOptions:
    try:
        return decode_job_request(parse_json_body(body))
    except (InvalidJobRequest, InvalidOptions) as error:
        return error


def assert_utf8(text: str, body: bytes) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pytest.fail(f"{text!r} is no UTF-8 text; body {body!r}")


def check(body: bytes) -> None:
    outcome = submitted(body)
    if isinstance(outcome, Exception):
        message = str(outcome)
        assert message.startswith(_PREFIXES) or message.startswith("callback_url "), message
        assert_utf8(message, body)  # the message is sent back as a JSON body
        return
    request = outcome
    assert _HASH.fullmatch(request.hash), body
    assert request.source, body
    assert "\x00" not in request.source, body
    for text in (request.source, request.callback_url):
        assert_utf8(text, body)  # stored in the database, sent to storage and webhooks
    fingerprint = request.fingerprint()
    assert len(fingerprint) == 64
    # The stored canonical options decode to the same request (retries and duplicates rely on it).
    canonical = {
        "type": str(request.type),
        "hash": request.hash,
        "source": request.source,
        "options": json.loads(encode_canonical(request.canonical_options())),
    }
    assert decode_job_request(canonical).fingerprint() == fingerprint, body


# --- structure-aware bodies -----------------------------------------------------------------

_NUMBERS: tuple[Any, ...] = (
    0, 1, -1, 2, 30, 31, 60, 61, 480, 1920, 1921, 8192, 8193, 604800, 604801, 0.5, 29.999,
    30.0, 30.0001, 1e-300, 2**53 + 1, 2**63, 10**400, -0.0, True, False, None, "1", [], {},
)  # fmt: skip
_STRINGS = (
    "", "webp", "gif", "png", "jpg", "jpeg", "avif", "WEBP", "tiff", "thumb", "sm", "a" * 33,
    "é", "\x00", "\ud800", "\udfff", "😀", "../x", "a/b", "uploads/a.png", " ", "\u202e",
)  # fmt: skip
_TYPES = (
    "image:thumbnail", "video:cover", "video:preview", "video:transcode", "video:full",
    "video:storyboard", "audio:transcode",
)  # fmt: skip
_CALLBACKS = (
    "", "https://93.184.216.34/cb", "http://example.com/cb", "ftp://x/", "http://", "https:///x",
    "http://[::1", "http://a:99999/", "http://a\tb/", "http://\ud800/", "javascript:alert(1)",
)  # fmt: skip


def _value(entropy: Entropy) -> Any:
    kind = entropy.below(4)
    if kind == 0:
        return entropy.pick(_NUMBERS)
    if kind == 1:
        return entropy.pick(_STRINGS)
    if kind == 2:
        return entropy.integer(-(10**6), 10**6)
    return entropy.integer(0, 10**6) / entropy.pick((1, 2, 3, 10, 1000))


def _options(entropy: Entropy, job_type: str) -> Any:
    fields = {
        "image:thumbnail": ("outputs",),
        "video:cover": ("timestamp_sec",),
        "video:preview": ("start_sec", "duration", "width", "fps", "format"),
        "video:transcode": ("encrypt",),
        "video:full": ("cover", "preview", "transcode", "storyboard"),
        "video:storyboard": (),
        "audio:transcode": ("encrypt", "downloads", "waveform"),
    }[job_type]
    options: dict[str, Any] = {}
    for name in fields:
        if entropy.chance(60):
            options[name] = _field(entropy, name)
    if entropy.chance(10):
        options[entropy.pick((*_STRINGS, "timestamp", "height", "TYPE"))] = _value(entropy)
    return entropy.pick((options, options, options, None, [], "x"))


def _field(entropy: Entropy, name: str) -> Any:
    if name == "outputs":
        return [
            {
                key: entropy.pick(_STRINGS) if key in ("variant", "format") else _value(entropy)
                for key in ("variant", "width", "height", "format")
                if entropy.chance(70)
            }
            for _ in range(entropy.below(4) if entropy.chance(95) else 17)
        ]
    if name in ("cover", "preview", "transcode"):
        nested = {"cover": "video:cover", "preview": "video:preview"}.get(name, "video:transcode")
        return _options(entropy, nested)
    if name == "format":
        return entropy.pick(_STRINGS)
    if name == "encrypt":
        return entropy.pick((True, False, None, 1, "true"))
    if name == "downloads":
        return entropy.pick((["mp3"], ["flac", "m4a"], ["wav"], ["mp3", "mp3"], "mp3", [1], []))
    if name == "storyboard":
        return entropy.pick((True, False, None, {}, {"x": 1}, "false", 0))
    if name == "waveform":
        return entropy.pick(({}, {"bins": _value(entropy)}, {"bins": 1000}, True, {"x": 1}))
    return _value(entropy)


def job_body(entropy: Entropy) -> bytes:
    """A body of the right shape, fields sometimes of the wrong type, then byte damage."""
    job_type = entropy.pick(_TYPES)
    body: dict[str, Any] = {
        "type": job_type if entropy.chance(90) else entropy.pick(_STRINGS),
        "hash": entropy.pick(("abcdef1234567890", "a", "A-_9", "x" * 128, "x" * 129))
        if entropy.chance(85)
        else entropy.pick(_STRINGS),
        "source": entropy.pick(_STRINGS) if entropy.chance(30) else "uploads/a.mp4",
    }
    if entropy.chance(60):
        body["options"] = _options(entropy, job_type)
    if entropy.chance(30):
        body["callback_url"] = entropy.pick(_CALLBACKS)
    for name in list(body):
        if entropy.chance(5):
            del body[name]
        elif entropy.chance(5):
            body[name] = _value(entropy)
    data = json.dumps(body, ensure_ascii=entropy.chance(50)).encode("utf-8", "surrogatepass")
    # Byte damage on a third only: most syntax errors end at the decoder's first check,
    # and the field-level damage above is what reaches the option validators.
    return mutate(data, entropy, _BYTE_PIECES) if entropy.chance(35) else data


_BYTE_PIECES = (
    b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\ud800", b"\\udc00",
    b"\\ud83d\\ude00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"NaN", b"-Infinity", b"1e999",
    b"-0", b"null", b"true", b' "type": "video:full"', b'"hash"', b"\x00", b" ", b"\n",
    b"9" * 5000, b"[" * 2000,
)  # fmt: skip


def test_arbitrary_bytes() -> None:
    fuzz(check, st.binary(max_size=200))


def test_damaged_valid_bodies() -> None:
    fuzz(check, built(job_body))
