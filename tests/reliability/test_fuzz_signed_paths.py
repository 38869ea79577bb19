"""Signed path parsing under 10 000+ hostile inputs per test: the ``/img`` remainder
(image_path), the ``/original``/``/thumb`` key (signing.canonical_object_key) and the
percent-decoding under both (percent_decoding) only ever raise their documented 400
errors; decoding agrees with an RFC 3986 oracle (urllib) wherever it succeeds; and no
signature minted for one route verifies on another, whatever the key.

The unit tests (tests/unit/test_image_path.py, test_percent_decoding.py,
test_signing.py) hold the tables and 100-example properties; these are the
large-budget versions with oracles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote_to_bytes

import pytest
from attrs import frozen

from tests.reliability.fuzz_budget import fuzz
from tests.reliability.mutations import Entropy, any_text, built, mutate
from vylux_core.errors import InvalidSignature, InvalidStorageKey, UnsupportedFormat
from vylux_core.images.options import REFERENCE_FORMATS, ImageFormat, ImageOptions
from vylux_core.images.path import parse_image_request_path
from vylux_core.security.percent_decoding import PercentDecodingError, decode_once
from vylux_core.security.signing import UrlSigner, canonical_object_key

pytestmark = [pytest.mark.reliability]

SIGNER = UrlSigner(secret="fuzz-hmac-secret")
OPTIONS = (ImageOptions(width=10), ImageOptions(height=0), ImageOptions(quality=80))
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_oracle(raw: str) -> str | None:
    """RFC 3986 decoding by the standard library, with the spec's refusals (§2.3)."""
    if _BAD_ESCAPE.search(raw):
        return None
    try:
        text = unquote_to_bytes(raw.encode("utf-8")).decode("utf-8")
    except UnicodeError:  # a lone surrogate in, or bytes that are not UTF-8 out
        return None
    return None if "\x00" in text else text


def decoded(raw: str) -> str | None:
    try:
        return decode_once(raw)
    except PercentDecodingError:
        return None


def image_request(
    remainder: str,
) -> tuple[str, ImageFormat] | InvalidStorageKey | UnsupportedFormat:
    try:
        return parse_image_request_path(remainder)
    except (InvalidStorageKey, UnsupportedFormat) as error:
        return error


def object_key(raw: str) -> str | InvalidStorageKey:
    try:
        return canonical_object_key(raw)
    except InvalidStorageKey as error:
        return error


def refused(verify: Callable[..., None], *args: object) -> bool:
    try:
        verify(*args)
    except InvalidSignature:
        return True
    return False


def check_remainder(remainder: str) -> None:
    """Every property that must hold for one raw path remainder."""
    assert decoded(remainder) == decode_oracle(remainder), repr(remainder)

    image = image_request(remainder)
    if isinstance(image, Exception):
        str(image).encode("utf-8")  # the message becomes a JSON body
    else:
        key, fmt = image
        assert key, repr(remainder)
        assert "\x00" not in key, repr(remainder)
        key.encode("utf-8")
        assert key == decode_oracle(remainder[: remainder.rfind(".")])
        for opts in OPTIONS:
            signature = SIGNER.sign_image(opts, key, fmt)
            SIGNER.verify_image(signature, opts, key, fmt)
            # An /img signature opens neither /original nor /thumb of any spelling of the key.
            assert refused(SIGNER.verify_original, signature, f"{key}.{fmt.extension}")
            assert refused(SIGNER.verify_thumb, signature, f"{key}.{fmt.extension}")

    key_or_error = object_key(remainder)
    if isinstance(key_or_error, Exception):
        str(key_or_error).encode("utf-8")
        return
    key = key_or_error
    assert key, repr(remainder)
    assert "\x00" not in key, repr(remainder)
    assert key == decode_oracle(remainder.removeprefix("/"))
    original, thumb = SIGNER.sign_original(key), SIGNER.sign_thumb(key)
    SIGNER.verify_original(original, key)
    SIGNER.verify_thumb(thumb, key)
    assert refused(SIGNER.verify_thumb, original, key)
    assert refused(SIGNER.verify_original, thumb, key)
    if not isinstance(image, Exception):
        # A /original (or /thumb) signature replayed on /img, whatever the options.
        for opts in OPTIONS:
            assert refused(SIGNER.verify_image, original, opts, *image)
            assert refused(SIGNER.verify_image, thumb, opts, *image)


@frozen
class PathCase:
    remainder: str
    key: str
    extension: str
    edited: bool


_SEGMENTS = (
    "uploads", "a b", "100%", "..", ".", "", "é", "😀", "\x00", "thumb", "w10", "photo.png",
    "/", "%2F", "a+b", "x.webp", "\\", "~", "?", "#", "日本", "\u202e", "\ufeff",
)  # fmt: skip
_EXTENSIONS = ("webp", "WEBP", "jpeg", "JPG", "png", "gif", "avif", "tiff", "", "webp/", "Jpeg")
_SAFE = ("", "/", "/.", "~", "/+")
_PIECES = (
    "%", "%0", "%00", "%2F", "%2f", "%25", "%2525", "%zz", "%e9", "%C3", "%ED%A0%80",
    "%C0%AF", "%F4%90%80%80", "..", "/", "\x00", ".", "%2E%2E", "/../", "//", "é",
)  # fmt: skip


def _hex_case(encoded: str, entropy: Entropy) -> str:
    if entropy.chance(50):
        return encoded
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def signed_path(entropy: Entropy) -> PathCase:
    """A key of awkward segments, encoded one of several legal ways, then maybe damaged."""
    key = "/".join(entropy.pick(_SEGMENTS) for _ in range(1 + entropy.below(4)))
    extension = entropy.pick(_EXTENSIONS)
    encoded = _hex_case(quote(key, safe=entropy.pick(_SAFE)), entropy)
    if entropy.chance(20):
        encoded = "/" + encoded  # /original's optional leading slash
    remainder = f"{encoded}.{extension}"
    damaged = mutate(remainder, entropy, _PIECES)
    return PathCase(damaged, key, extension, edited=damaged != remainder)


def check_case(case: PathCase) -> None:
    check_remainder(case.remainder)
    if case.edited or case.remainder.startswith("/"):
        return
    # Untouched: the parse gives back exactly the key and format that were encoded.
    image = image_request(case.remainder)
    valid_key = case.key and "\x00" not in case.key
    try:
        fmt: ImageFormat | None = ImageFormat(case.extension.lower().replace("jpeg", "jpg"))
    except ValueError:
        fmt = None
    if fmt not in REFERENCE_FORMATS:
        fmt = None  # /img speaks the reference's five formats
    if valid_key and fmt is not None:
        assert image == (case.key, fmt), case
    else:
        assert isinstance(image, Exception), case


def test_arbitrary_text() -> None:
    fuzz(check_remainder, any_text())


def test_encoded_keys_damaged() -> None:
    fuzz(check_case, built(signed_path))
