"""W3C Clear Key licences (EME §9.1.4): decode a licence request, shape the response.

A browser's Clear Key CDM sends ``{"kids": ["<base64url KID>", ...], "type": "temporary"}``
and expects a JSON Web Key Set ``{"keys": [{"kty": "oct", "k": ..., "kid": ...}], "type":
...}``, every byte string base64url without padding. Pure functions over plain values; the
HTTP adapter reads the body and the key service decides which keys a caller may have.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from vylux_core.errors import InvalidLicenseRequest
from vylux_core.security.key_ring import ContentKey

KID_BYTES: Final = 16
# A licence request names the KIDs of one piece of media; players send one or a few.
MAX_KIDS: Final = 16
# EME's MediaKeySessionType values; the licence always answers "temporary": nothing
# here is meant to outlive the playback session.
SESSION_TYPES: Final = ("temporary", "persistent-license")
LICENSE_SESSION_TYPE: Final = "temporary"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def b64url(data: bytes) -> str:
    """base64url without padding, as JSON Web Keys write byte strings."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_license_request(raw: Any) -> tuple[bytes, ...]:
    """The requested key ids, in request order and without duplicates.

    Raises :class:`InvalidLicenseRequest` (message ``invalid license request: …``) unless
    ``raw`` is an object with ``kids``, a non-empty array of at most ``MAX_KIDS``
    base64url strings of 16 bytes each (padding optional), and at most a ``type`` that is
    an EME session type. Other fields are refused, as everywhere in the API.
    """
    if not isinstance(raw, Mapping):
        raise _invalid("body must be a JSON object")
    for name in raw:
        if name not in ("kids", "type"):
            raise _invalid(f'unknown field "{name}"')
    session_type = raw.get("type")
    if session_type is not None and session_type not in SESSION_TYPES:
        raise _invalid(f"type must be one of {', '.join(SESSION_TYPES)}")
    kids = raw.get("kids")
    if not isinstance(kids, list) or not kids:
        raise _invalid("kids must be a non-empty array of base64url key ids")
    if len(kids) > MAX_KIDS:
        raise _invalid(f"kids may hold at most {MAX_KIDS} key ids")
    return tuple(dict.fromkeys(_kid(value, index) for index, value in enumerate(kids)))


def license_response(keys: Iterable[ContentKey]) -> dict[str, Any]:
    """The JSON Web Key Set a Clear Key CDM takes as its licence."""
    return {
        "keys": [{"kty": "oct", "k": b64url(key.key), "kid": b64url(key.kid)} for key in keys],
        "type": LICENSE_SESSION_TYPE,
    }


def _kid(value: Any, index: int) -> bytes:
    where = f"kids[{index}]"
    if not isinstance(value, str) or _BASE64URL.fullmatch(value) is None:
        raise _invalid(f"{where} must be a base64url string")
    unpadded = value.rstrip("=")
    try:
        kid = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(f"{where} must be a base64url string") from None
    if len(kid) != KID_BYTES:
        raise _invalid(f"{where} must encode a {KID_BYTES}-byte key id")
    return kid


def _invalid(detail: str) -> InvalidLicenseRequest:
    return InvalidLicenseRequest(f"invalid license request: {detail}")
