from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.webhooks.signature import (
    DEFAULT_TOLERANCE_SECONDS,
    sign_webhook,
    sign_webhook_timestamped,
    verify_webhook,
    verify_webhook_timestamped,
)

SECRET = "test-webhook-secret"
BODY = b'{"job_id":"j1","status":"completed"}'
TS = 1_700_000_000


def _hex(message: bytes) -> str:
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("got", "want"),
    [
        pytest.param(sign_webhook(SECRET, BODY), "sha256=" + _hex(BODY), id="plain"),
        pytest.param(sign_webhook(SECRET, b""), "sha256=" + _hex(b""), id="plain-empty-body"),
        pytest.param(
            sign_webhook_timestamped(SECRET, TS, BODY),
            "v1=" + _hex(b"1700000000." + BODY),
            id="timestamped",
        ),
        pytest.param(
            sign_webhook("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
            id="published-hmac-example",
        ),
    ],
)
def test_signatures(got: str, want: str) -> None:
    assert got == want


@pytest.mark.parametrize(
    ("signature", "body", "want"),
    [
        pytest.param(sign_webhook(SECRET, BODY), BODY, True, id="genuine"),
        pytest.param(sign_webhook(SECRET, BODY), BODY + b" ", False, id="body-changed"),
        pytest.param(sign_webhook("other", BODY), BODY, False, id="other-secret"),
        pytest.param(sign_webhook(SECRET, BODY).upper(), BODY, False, id="upper-case"),
        pytest.param(_hex(BODY), BODY, False, id="missing-prefix"),
        pytest.param("", BODY, False, id="empty"),
        pytest.param("sha256=é", BODY, False, id="non-ascii"),
    ],
)
def test_verify_webhook(signature: str, body: bytes, want: bool) -> None:
    assert verify_webhook(SECRET, body, signature) is want


_GOOD = sign_webhook_timestamped(SECRET, TS, BODY)


@pytest.mark.parametrize(
    ("timestamp", "body", "signature", "now", "want"),
    [
        pytest.param(TS, BODY, _GOOD, TS, True, id="fresh"),
        pytest.param(TS, BODY, _GOOD, TS + DEFAULT_TOLERANCE_SECONDS, True, id="at-tolerance"),
        pytest.param(TS, BODY, _GOOD, TS + DEFAULT_TOLERANCE_SECONDS + 1, False, id="stale"),
        pytest.param(TS, BODY, _GOOD, TS - DEFAULT_TOLERANCE_SECONDS, True, id="clock-behind"),
        pytest.param(TS, BODY, _GOOD, TS - DEFAULT_TOLERANCE_SECONDS - 1, False, id="future"),
        pytest.param(TS + 1, BODY, _GOOD, TS, False, id="timestamp-changed"),
        pytest.param(TS, BODY + b"x", _GOOD, TS, False, id="body-changed"),
        pytest.param(TS, BODY, _GOOD.upper(), TS, False, id="upper-case"),
        pytest.param(TS, BODY, sign_webhook(SECRET, BODY), TS, False, id="plain-scheme"),
        pytest.param(TS, BODY, "", TS, False, id="empty"),
    ],
)
def test_verify_webhook_timestamped(
    timestamp: int, body: bytes, signature: str, now: int, want: bool
) -> None:
    assert verify_webhook_timestamped(SECRET, timestamp, body, signature, now) is want


def test_custom_tolerance() -> None:
    assert verify_webhook_timestamped(SECRET, TS, BODY, _GOOD, TS + 10, tolerance_seconds=5) is (
        False
    )


@given(st.integers(0, 2**40), st.binary())
def test_timestamped_round_trip(timestamp: int, body: bytes) -> None:
    signature = sign_webhook_timestamped(SECRET, timestamp, body)
    assert verify_webhook_timestamped(SECRET, timestamp, body, signature, timestamp)


@given(st.text())
def test_arbitrary_signature_text_is_just_false(signature: str) -> None:
    assert verify_webhook_timestamped(SECRET, TS, BODY, signature, TS) is False
