"""imgproxy URLs: ``/{signature}/{options…}/plain/{source}[@ext]`` or
``/{signature}/{options…}/{base64url(source)}[.ext]``, and their signature.

The signature is imgproxy's: HMAC-SHA256 with a hex key over the hex salt followed by
the path after the signature (leading ``/`` included), URL-safe base64 without
padding, optionally truncated to ``signature_size`` bytes. Several key/salt pairs
may verify (rotation). Sources name objects of the source store only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

from attrs import field, frozen, validators

from vylux_core.errors import InvalidSignature, InvalidStorageKey
from vylux_core.images.options import ImageFormat, go_quote
from vylux_core.imgproxy.options import FORMAT_NAMES, unsupported_format
from vylux_core.security.percent_decoding import PercentDecodingError, decode_once

INSECURE_SIGNATURES = frozenset({"insecure", "_"})
DEFAULT_PATH_PREFIX: Final = "/imgproxy"
"""Where the route family answers unless IMGPROXY_PATH_PREFIX says otherwise."""
DEFAULT_SIGNATURE_SIZE = 32


@frozen
class KeyPair:
    key: bytes = field(repr=False)
    salt: bytes = field(repr=False)


def parse_key_pairs(keys: str, salts: str) -> tuple[KeyPair, ...]:
    """``IMGPROXY_KEY``/``IMGPROXY_SALT``: hex, comma-separated lists of equal length
    (raises ValueError when they are not; the message never holds a key)."""
    key_list = [item.strip() for item in keys.split(",") if item.strip()]
    salt_list = [item.strip() for item in salts.split(",") if item.strip()]
    if len(key_list) != len(salt_list):
        raise ValueError("IMGPROXY_KEY and IMGPROXY_SALT must list as many entries")
    pairs = []
    for key, salt in zip(key_list, salt_list, strict=True):
        try:
            pairs.append(KeyPair(bytes.fromhex(key), bytes.fromhex(salt)))
        except ValueError:
            raise ValueError("IMGPROXY_KEY and IMGPROXY_SALT entries must be hex") from None
    return tuple(pairs)


@frozen(kw_only=True)
class ImgproxySigner:
    pairs: tuple[KeyPair, ...] = field(repr=False)
    signature_size: int = field(
        default=DEFAULT_SIGNATURE_SIZE, validator=[validators.ge(1), validators.le(32)]
    )
    allow_insecure: bool = False

    def sign(self, path: str, pair: int = 0) -> str:
        """The signature of ``path`` (``/options/…/source``) with the ``pair``-th key."""
        chosen = self.pairs[pair]
        digest = hmac.new(chosen.key, chosen.salt + path.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[: self.signature_size]).rstrip(b"=").decode()

    def verify(self, signature: str, path: str) -> None:
        if signature in INSECURE_SIGNATURES and self.allow_insecure:
            return
        given = signature.encode("utf-8", "surrogatepass")
        for index in range(len(self.pairs)):
            if hmac.compare_digest(self.sign(path, index).encode("ascii"), given):
                return
        raise InvalidSignature("invalid signature")


@frozen(kw_only=True)
class ImgproxyRequest:
    """A parsed URL: the option segments, the source's object key and the explicit
    output format (None: negotiate). ``info``: the info endpoint was asked for."""

    segments: tuple[str, ...]
    source_key: str
    format: ImageFormat | None
    info: bool = False


def parse_request_path(path: str, *, source_bucket: str) -> ImgproxyRequest:
    """Parse the signed path (``/opts/…/plain/src@ext`` or ``/opts/…/b64src.ext``)."""
    segments = path.removeprefix("/").split("/")
    info = False
    if segments and segments[0] == "info":
        info = True
        segments = segments[1:]
    if "plain" in segments:
        index = segments.index("plain")
        options = segments[:index]
        source = "/".join(segments[index + 1 :])
        source, _, extension = source.rpartition("@") if "@" in source else (source, "", "")
        try:
            source = decode_once(source)
        except PercentDecodingError as error:
            raise InvalidStorageKey("invalid source encoding") from error
    else:
        # The base64 form: the source is the last segment (it may be split by "/"
        # for length, as imgproxy allows, so join what is not an option).
        options = [segment for segment in segments if ":" in segment]
        encoded = "/".join(segment for segment in segments if ":" not in segment)
        encoded, _, extension = encoded.partition(".")
        source = _decode_base64(encoded.replace("/", ""))
    fmt = _extension(extension) if extension else None
    key = source_key_of(source, source_bucket=source_bucket)
    return ImgproxyRequest(
        segments=tuple(segment for segment in options if segment),
        source_key=key,
        format=fmt,
        info=info,
    )


def _decode_base64(encoded: str) -> str:
    if not encoded:
        raise InvalidStorageKey("missing source path")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidStorageKey("invalid base64 source URL") from None


def _extension(text: str) -> ImageFormat:
    fmt = FORMAT_NAMES.get(text.lower())
    if fmt is None:
        raise unsupported_format("format", text)
    return fmt


def source_key_of(source: str, *, source_bucket: str) -> str:
    """The source-store key a source URL names: ``photos/a.jpg``,
    ``local:///photos/a.jpg`` and ``s3://{bucket}/photos/a.jpg`` alike. Any other
    scheme or bucket is refused: the service never fetches remote URLs."""
    if "://" in source:
        scheme, _, rest = source.partition("://")
        if scheme == "local":
            if not rest.startswith("/"):
                raise InvalidStorageKey("local:// sources must be absolute (local:///path)")
            key = rest.lstrip("/")
        elif scheme == "s3":
            bucket, _, key = rest.partition("/")
            if not source_bucket or bucket != source_bucket:
                raise InvalidStorageKey(
                    f"source bucket {go_quote(bucket)} is not the source store's bucket"
                )
        else:
            raise InvalidStorageKey(
                f"source scheme {go_quote(scheme)} is not allowed: only objects of the "
                "source store (plain paths, local:///, s3://{SOURCE_BUCKET}/)"
            )
    else:
        key = source.lstrip("/")
    if not key:
        raise InvalidStorageKey("missing source key")
    if any(part in ("", ".", "..") for part in key.split("/")) or "\x00" in key:
        raise InvalidStorageKey("invalid source key")
    return key


def join_segments(segments: Sequence[str]) -> str:
    return "/".join(segments)
