"""Bearer tokens that authorise one content-key delivery (wire format: spec §4.3)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import NoReturn

from vylux_core.errors import InvalidKeyToken
from vylux_core.jobs.canonical_json import quote_go_string

# Unpadded RFC 4648 §5 alphabet only: nothing legitimate puts CR/LF inside a part, so
# they are refused rather than skipped.
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def mint_key_token(secret: str, media_hash: str, exp: int) -> str:
    """Token for ``media_hash`` valid up to and including the second ``exp``."""
    # Written by hand so the bytes match Go's json.Marshal of {hash, exp} exactly.
    payload_json = '{"hash":' + quote_go_string(media_hash) + ',"exp":' + str(int(exp)) + "}"
    payload = _b64url(payload_json.encode("utf-8"))
    return payload + "." + _b64url(_mac(secret, payload))


def verify_key_token(secret: str, token: str, media_hash: str, now: int) -> None:
    """Raise InvalidKeyToken unless ``token`` is genuine, unexpired and names ``media_hash``.

    Messages are short fixed reasons; they never echo the token or the secret.
    """
    payload, dot, sig = token.partition(".")
    if not dot:
        raise InvalidKeyToken("malformed token")
    payload_bytes = _b64url_decode(payload)
    sig_bytes = _b64url_decode(sig)
    if not hmac.compare_digest(sig_bytes, _mac(secret, payload)):
        raise InvalidKeyToken("invalid token signature")
    claimed_hash, exp = _claims(payload_bytes)
    if now > exp:
        raise InvalidKeyToken("token expired")
    if claimed_hash != media_hash:
        raise InvalidKeyToken("token hash mismatch")


def _claims(payload: bytes) -> tuple[str, int]:
    try:
        document = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8, bad JSON and over-long integer literals.
        raise InvalidKeyToken("invalid token payload") from exc
    if not isinstance(document, dict):
        raise InvalidKeyToken("invalid token payload")
    claimed_hash = document.get("hash")
    # A missing exp counts as 0: the token is long expired.
    exp = document.get("exp", 0)
    if not isinstance(claimed_hash, str):
        raise InvalidKeyToken("invalid token payload")
    # type() rather than isinstance(): JSON true/false arrive as bool, an int subclass;
    # 2e9 and 2.0 arrive as float; none of them is an int64 exp.
    if type(exp) is not int or not _INT64_MIN <= exp <= _INT64_MAX:
        raise InvalidKeyToken("invalid token payload")
    return claimed_hash, exp


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _mac(secret: str, payload_b64: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), payload_b64.encode("ascii"), hashlib.sha256).digest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(part: str) -> bytes:
    if _B64URL.fullmatch(part) is None:
        raise InvalidKeyToken("invalid token encoding")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except binascii.Error as exc:  # a length of 1 mod 4 can never be base64
        raise InvalidKeyToken("invalid token encoding") from exc
