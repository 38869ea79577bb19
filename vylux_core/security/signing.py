"""HMAC-SHA256 signatures of delivery URLs (messages: spec §4.2)."""

from __future__ import annotations

import hashlib
import hmac

from attrs import field, frozen

from vylux_core.errors import InvalidImageOptions, InvalidSignature, InvalidStorageKey
from vylux_core.images.options import ImageFormat, ImageOptions, canonical_options
from vylux_core.security.percent_decoding import PercentDecodingError, decode_once

# Messages of the three domains never collide: /original starts with "/", /thumb with
# "thumb/" and /img with a w, h or q token, as long as /img options are not empty.
_ORIGINAL_PREFIX = "/"
_THUMB_PREFIX = "thumb/"


@frozen(kw_only=True)
class UrlSigner:
    """Signs and verifies delivery URLs with one shared secret (used as UTF-8 text, not hex)."""

    secret: str = field(repr=False)

    def sign_image(self, options: ImageOptions, source_key: str, fmt: ImageFormat) -> str:
        return self._sign(_image_message(options, source_key, fmt))

    def verify_image(
        self, sig: str, options: ImageOptions, source_key: str, fmt: ImageFormat
    ) -> None:
        """Raise InvalidSignature unless ``sig`` signs these canonical options, key and format.

        Raises InvalidImageOptions for empty options before looking at the signature.
        """
        self._verify(sig, _image_message(options, source_key, fmt))

    def sign_original(self, key: str) -> str:
        return self._sign(_ORIGINAL_PREFIX + key)

    def verify_original(self, sig: str, key: str) -> None:
        """``key`` is the canonical (decoded) object key; see :func:`canonical_object_key`."""
        self._verify(sig, _ORIGINAL_PREFIX + key)

    def sign_thumb(self, key: str) -> str:
        return self._sign(_THUMB_PREFIX + key)

    def verify_thumb(self, sig: str, key: str) -> None:
        """``key`` is the canonical (decoded) object key; see :func:`canonical_object_key`."""
        self._verify(sig, _THUMB_PREFIX + key)

    def _sign(self, message: str) -> str:
        return hmac.new(
            self.secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def _verify(self, sig: str, message: str) -> None:
        expected = self._sign(message).encode("ascii")
        # Compared as hex text, not decoded bytes: a signature is lower-case hex, so
        # upper-case hex fails.
        # surrogatepass keeps an arbitrary str encodable; it can never match anyway.
        if not hmac.compare_digest(expected, sig.encode("utf-8", "surrogatepass")):
            raise InvalidSignature("invalid signature")


def _image_message(options: ImageOptions, source_key: str, fmt: ImageFormat) -> str:
    # With no options the message would be
    # "/" + key + "." + ext, byte-identical to the /original message for the object
    # "key.ext", so one signature would unlock both routes. Empty options are refused (D8).
    if options.is_empty:
        raise InvalidImageOptions("bad options: options must not be empty")
    return f"{canonical_options(options)}/{source_key}.{fmt.extension}"


def canonical_object_key(raw: str) -> str:
    """The object key a ``/original`` or ``/thumb`` remainder names."""
    try:
        key = decode_once(raw.removeprefix("/"))
    except PercentDecodingError as exc:
        raise InvalidStorageKey(f"invalid object key encoding: {exc}") from exc
    if not key:
        raise InvalidStorageKey("missing object key")
    return key
