"""Key-delivery tokens under 10 000+ hostile inputs per test: ``verify_key_token`` only
ever raises ``InvalidKeyToken`` with one of its six fixed reasons (never echoing the
token), and a token it accepts is genuine: its payload text carries our HMAC and
claims exactly the asked hash with an integer ``exp`` not yet past.

The unit tests (tests/unit/test_key_token.py) hold the vector, the tables and
100-example properties; these are the large-budget versions, including damaged real
tokens and correctly signed payloads of hostile JSON (to reach the claims checks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from attrs import frozen
from hypothesis import strategies as st

from tests.reliability.fuzz_budget import fuzz
from tests.reliability.mutations import Entropy, any_text, built, mutate
from vylux_core.errors import InvalidKeyToken
from vylux_core.security.key_token import mint_key_token, verify_key_token

pytestmark = [pytest.mark.reliability]

SECRET = "fuzz-key-token-secret"
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


@frozen
class TokenCase:
    token: str
    media_hash: str
    now: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(payload: str) -> bytes:
    return hmac.new(SECRET.encode(), payload.encode("ascii"), hashlib.sha256).digest()


def refusal(case: TokenCase) -> str | None:
    try:
        verify_key_token(SECRET, case.token, case.media_hash, case.now)
    except InvalidKeyToken as error:
        return str(error)
    return None


def check(case: TokenCase) -> None:
    reason = refusal(case)
    if reason is not None:
        assert reason in REASONS, case
        return
    # Accepted: the payload text is MACed by us (the signature part may be spelled
    # differently: base64's unused low bits of the last character are not checked,
    # as in Go's non-strict decoder) and its claims are the ones asked for.
    payload, _, signature = case.token.partition(".")
    assert hmac.compare_digest(base64.urlsafe_b64decode(signature + "=" * 3), _mac(payload))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * 3))
    assert claims["hash"] == case.media_hash, case
    assert type(claims.get("exp", 0)) is int, case
    assert case.now <= claims.get("exp", 0), case


# --- structure-aware tokens -------------------------------------------------------------------

_HASHES = (HASH, "", "a", "x" * 200, "é", "😀", "movie-2026-04-01 ", "MOVIE-2026-04-01", "\x00")
_TOKEN_PIECES = (
    ".", "..", "=", "==", "+", "/", "A", "-", "_", "\n", "\r\n", " ", "\x00", "%3D", "é",
    "eyJ", "e30",  # '{"', '{}'
)  # fmt: skip
_EXP_TEXTS = (
    "2000000000", "1999999999", "0", "-1", "2e9", "2000000000.0", "2.0e9", "true", "null",
    '"2000000000"', "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "1" * 5000, "[2000000000]", "{}", "NaN", "Infinity", "-0", "0x77359400",
)  # fmt: skip
_HASH_TEXTS = (
    json.dumps(HASH), '"movie-2026-04-01\\u0000"', '"\\ud800"', "null", "1", "[]",
    '"movie-2026-04-0\\u0031"', '"MOVIE-2026-04-01"', json.dumps("x" * 300),
)  # fmt: skip


def _claims_text(entropy: Entropy) -> bytes:
    fields = [f'"hash":{entropy.pick(_HASH_TEXTS)}', f'"exp":{entropy.pick(_EXP_TEXTS)}']
    if entropy.chance(20):
        fields.append(entropy.pick(('"exp":0', '"hash":"other"', '"kid":"v2"', '"x":{"y":[1]}')))
    if entropy.chance(15):
        fields.pop(entropy.below(len(fields)))
    text = "{" + ",".join(fields[i] for i in _order(entropy, len(fields))) + "}"
    if entropy.chance(10):
        text = entropy.pick(("[" + text + "]", text + text, text[:-1], " " + text, "\ufeff" + text))
    data = text.encode("utf-8", "surrogatepass")
    return data + b"\xff" if entropy.chance(5) else data


def _order(entropy: Entropy, count: int) -> list[int]:
    indexes = list(range(count))
    if entropy.chance(30):
        indexes.reverse()
    return indexes


def token_case(entropy: Entropy) -> TokenCase:
    """A minted token or a signed hostile payload, maybe damaged, for a nearby moment."""
    if entropy.chance(50):
        minted_hash = entropy.pick(_HASHES)
        exp = entropy.integer(-(2**63), 2**63 - 1) if entropy.chance(20) else EXP
        token = mint_key_token(SECRET, minted_hash, exp)
    else:
        minted_hash = HASH
        payload = _b64(_claims_text(entropy))
        token = f"{payload}.{_b64(_mac(payload))}"
    token = mutate(token, entropy, _TOKEN_PIECES, max_edits=2) if entropy.chance(40) else token
    media_hash = minted_hash if entropy.chance(85) else entropy.pick(_HASHES)
    now = entropy.pick((EXP - 1, EXP, EXP + 1, 0, -(2**63), 2**63 - 1, 2**70))
    return TokenCase(token, media_hash, now)


def test_arbitrary_text() -> None:
    fuzz(
        check,
        st.builds(TokenCase, any_text(120), st.sampled_from(_HASHES), st.integers(-(2**70), 2**70)),
    )


def test_damaged_and_forged_tokens() -> None:
    fuzz(check, built(token_case))
