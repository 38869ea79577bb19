from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.errors import InvalidKeyToken
from vylux_core.security.key_token import mint_key_token, verify_key_token

SECRET = "test-key-token-secret"
HASH = "movie-2026-04-01"
EXP = 2_000_000_000
REASONS = {
    "malformed token",
    "invalid token encoding",
    "invalid token signature",
    "invalid token payload",
    "token expired",
    "token hash mismatch",
}
VECTOR = (
    "eyJoYXNoIjoibW92aWUtMjAyNi0wNC0wMSIsImV4cCI6MjAwMDAwMDAwMH0"
    ".zwExpT2j_ilfebRA0lDIGqlOanhZm64PqgdxtNlrNLU"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(payload_json: str, secret: str = SECRET) -> str:
    """A correctly signed token around any payload text, to reach the JSON checks."""
    payload = _b64(payload_json.encode())
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def test_vector() -> None:
    assert mint_key_token(SECRET, HASH, EXP) == VECTOR
    assert _signed('{"hash":"movie-2026-04-01","exp":2000000000}') == VECTOR


@pytest.mark.parametrize(
    ("token", "media_hash", "now"),
    [
        pytest.param(VECTOR, HASH, 1_700_000_000, id="vector-before-exp"),
        pytest.param(VECTOR, HASH, EXP, id="valid-in-the-exp-second"),
        pytest.param(mint_key_token(SECRET, "a<b>&c", 10), "a<b>&c", 5, id="go-escaped-hash"),
        pytest.param(mint_key_token(SECRET, "é", 10), "é", 5, id="non-ascii-hash"),
        pytest.param(_signed('{"exp":10,"hash":"h","extra":[1]}'), "h", 5, id="extra-ignored"),
        pytest.param(_signed('{"hash":"h","exp":10}'), "h", 10, id="hand-made"),
        pytest.param(_signed(' {"hash" : "h", "exp" : 10} '), "h", 5, id="whitespace-ok"),
        pytest.param(_signed('{"hash":"h","exp":-0}'), "h", 0, id="minus-zero-exp"),
        pytest.param(_signed('{"hash":"h","exp":1,"exp":9}'), "h", 5, id="duplicate-last-wins"),
    ],
)
def test_verify_accepts(token: str, media_hash: str, now: int) -> None:
    verify_key_token(SECRET, token, media_hash, now)


_PAYLOAD, _SIG = VECTOR.split(".")


@pytest.mark.parametrize(
    ("token", "media_hash", "now", "reason"),
    [
        pytest.param(VECTOR, HASH, EXP + 1, "token expired", id="expired-one-second-later"),
        pytest.param(VECTOR, "movie-2026-04-02", 0, "token hash mismatch", id="hash-mismatch"),
        pytest.param(VECTOR, HASH.upper(), 0, "token hash mismatch", id="hash-case-matters"),
        pytest.param(VECTOR, HASH, EXP + 1, "token expired", id="expiry-checked-before-hash"),
        pytest.param("", HASH, 0, "malformed token", id="empty"),
        pytest.param(_PAYLOAD, HASH, 0, "malformed token", id="no-dot"),
        pytest.param("invalid.token", HASH, 0, "invalid token encoding", id="spec-i16"),
        pytest.param(VECTOR + ".x", HASH, 0, "invalid token encoding", id="three-parts"),
        pytest.param(f"{_PAYLOAD}.{_SIG}=", HASH, 0, "invalid token encoding", id="padded-sig"),
        pytest.param(
            _signed('{"hash":"h","exp":10}').replace(".", "=."),
            "h",
            0,
            "invalid token encoding",
            id="padded-payload",
        ),
        pytest.param(f"{_PAYLOAD}.{_SIG[:-1]}+", HASH, 0, "invalid token encoding", id="std-b64"),
        pytest.param(f"{_PAYLOAD}.{_SIG[:-1]}/", HASH, 0, "invalid token encoding", id="slash"),
        pytest.param(f"{_PAYLOAD}.{_SIG} ", HASH, 0, "invalid token encoding", id="space"),
        pytest.param(f"{_PAYLOAD}.{_SIG}\n", HASH, 0, "invalid token encoding", id="newline"),
        pytest.param(f"{_PAYLOAD}.A", HASH, 0, "invalid token encoding", id="len-1-mod-4"),
        pytest.param(f"{_PAYLOAD}.{_SIG[:-1]}", HASH, 0, "invalid token signature", id="short"),
        pytest.param(f"{_PAYLOAD}.", HASH, 0, "invalid token signature", id="empty-sig"),
        pytest.param(
            _signed('{"hash":"movie-2026-04-01","exp":2000000000}', "other-secret"),
            HASH,
            0,
            "invalid token signature",
            id="other-secret",
        ),
        pytest.param("f" + VECTOR[1:], HASH, 0, "invalid token signature", id="payload-tampered"),
    ],
)
def test_verify_rejects_token(token: str, media_hash: str, now: int, reason: str) -> None:
    with pytest.raises(InvalidKeyToken) as caught:
        verify_key_token(SECRET, token, media_hash, now)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param('{"hash":"h","exp":2e9}', "invalid token payload", id="exp-exponent"),
        pytest.param('{"hash":"h","exp":2000000000.0}', "invalid token payload", id="exp-float"),
        pytest.param('{"hash":"h","exp":"2000000000"}', "invalid token payload", id="exp-string"),
        pytest.param('{"hash":"h","exp":true}', "invalid token payload", id="exp-true"),
        pytest.param('{"hash":"h","exp":false}', "invalid token payload", id="exp-false"),
        pytest.param('{"hash":"h","exp":null}', "invalid token payload", id="exp-null"),
        pytest.param('{"hash":"h","exp":NaN}', "invalid token payload", id="exp-nan"),
        pytest.param('{"hash":"h","exp":Infinity}', "invalid token payload", id="exp-infinity"),
        pytest.param(
            '{"hash":"h","exp":9223372036854775808}', "invalid token payload", id="exp-over-int64"
        ),
        pytest.param(
            '{"hash":"h","exp":' + "9" * 5000 + "}", "invalid token payload", id="exp-huge-literal"
        ),
        pytest.param('{"hash":"h"}', "token expired", id="missing-exp-is-zero"),
        pytest.param('{"exp":2000000000}', "invalid token payload", id="missing-hash"),
        pytest.param('{"hash":1,"exp":2000000000}', "invalid token payload", id="hash-number"),
        pytest.param('{"hash":null,"exp":2000000000}', "invalid token payload", id="hash-null"),
        pytest.param('["h",2000000000]', "invalid token payload", id="array"),
        pytest.param('"h"', "invalid token payload", id="string"),
        pytest.param("", "invalid token payload", id="empty"),
        pytest.param("{", "invalid token payload", id="truncated-json"),
        pytest.param('{"hash":"h","exp":1}x', "invalid token payload", id="trailing-data"),
        pytest.param("[" * 100_000 + "]" * 100_000, "invalid token payload", id="deep-nesting"),
    ],
)
def test_verify_rejects_payload(payload: str, reason: str) -> None:
    with pytest.raises(InvalidKeyToken) as caught:
        verify_key_token(SECRET, _signed(payload), "h", 1)
    assert str(caught.value) == reason


def test_invalid_utf8_payload_rejected() -> None:
    payload = _b64(b'{"hash":"\xff","exp":10}')
    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidKeyToken, match=r"^invalid token payload$"):
        verify_key_token(SECRET, f"{payload}.{_b64(mac)}", "\ufffd", 1)


@given(st.text(), st.integers(0, 2**62))
def test_mint_verify_round_trip(media_hash: str, exp: int) -> None:
    verify_key_token(SECRET, mint_key_token(SECRET, media_hash, exp), media_hash, exp)


@given(st.text(), st.text(), st.integers())
def test_arbitrary_token_raises_only_invalid_key_token(
    token: str, media_hash: str, now: int
) -> None:
    with pytest.raises(InvalidKeyToken) as caught:
        verify_key_token(SECRET, token, media_hash, now)
    assert str(caught.value) in REASONS


@given(st.text(), st.integers())
def test_arbitrary_signed_payload_raises_only_invalid_key_token(payload: str, now: int) -> None:
    with contextlib.suppress(InvalidKeyToken):
        verify_key_token(SECRET, _signed(payload), "h", now)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="))
def test_near_alphabet_token_raises_only_invalid_key_token(token: str) -> None:
    with pytest.raises(InvalidKeyToken):
        verify_key_token(SECRET, token, HASH, 0)
