"""DeliveryService: signed ``/original`` and ``/thumb`` objects and ``/stream`` files."""

from __future__ import annotations

from attrs import frozen

from vylux_core.errors import InvalidStorageKey, UnsupportedFormat
from vylux_core.media.downloads import is_download_path
from vylux_core.media.media_hash import validate_media_hash
from vylux_core.media.mime_types import (
    OCTET_STREAM,
    STREAMABLE,
    content_type_for,
    extension_of,
    is_active_content,
    stream_content_type,
)
from vylux_core.media.storage_keys import video_key
from vylux_core.ports.object_store import ByteRange, ObjectReader, ObjectStore
from vylux_core.security.percent_decoding import PercentDecodingError, decode_once
from vylux_core.security.signing import UrlSigner, canonical_object_key


@frozen(kw_only=True)
class Delivery:
    """An opened object and how to present it; the caller streams and closes it."""

    reader: ObjectReader
    content_type: str
    as_attachment: bool


class DeliveryService:
    """The signature (or the path rules) is checked before storage is touched.

    Store errors propagate: ``ObjectNotFound`` is a 404, ``StorageUnavailable`` a
    502/503, so clients and caches do not take an outage for a missing object (D31).
    """

    def __init__(self, *, signer: UrlSigner, source: ObjectStore, media: ObjectStore) -> None:
        self._signer = signer
        self._source = source
        self._media = media

    async def original(
        self, signature: str, raw_key: str, byte_range: ByteRange | None = None
    ) -> Delivery:
        key = _signed_key(signature, raw_key)
        self._signer.verify_original(signature, key)
        reader = await self._source.open(key, byte_range)
        content_type = content_type_for(key) or reader.info.content_type or OCTET_STREAM
        return _delivery(reader, content_type)

    async def thumb(
        self, signature: str, raw_key: str, byte_range: ByteRange | None = None
    ) -> Delivery:
        key = _signed_key(signature, raw_key)
        self._signer.verify_thumb(signature, key)
        reader = await self._media.open(key, byte_range)
        return _delivery(reader, content_type_for(key) or OCTET_STREAM)

    async def stream(
        self, media_hash: str, raw_path: str, byte_range: ByteRange | None = None
    ) -> Delivery:
        if not media_hash or not raw_path:
            raise InvalidStorageKey("missing hash or file path")
        try:
            path = decode_once(raw_path)
        except PercentDecodingError:
            raise InvalidStorageKey("invalid path") from None
        if ".." in path:
            raise InvalidStorageKey("invalid path")
        if extension_of(path) not in STREAMABLE:
            raise UnsupportedFormat("unsupported file type")
        validate_media_hash(media_hash)
        try:
            key = video_key(media_hash, path)
        except InvalidStorageKey:
            raise InvalidStorageKey("invalid path") from None
        reader = await self._media.open(key, byte_range)
        content_type = stream_content_type(path) or OCTET_STREAM
        return _delivery(reader, content_type, download=is_download_path(path))


def _delivery(reader: ObjectReader, content_type: str, *, download: bool = False) -> Delivery:
    """Active content (HTML, SVG …) is always an attachment, so a browser never runs it
    from our origin; ``download`` asks for one as well."""
    return Delivery(
        reader=reader,
        content_type=content_type,
        as_attachment=download or is_active_content(content_type),
    )


def _signed_key(signature: str, raw_key: str) -> str:
    if not signature or not raw_key:
        raise InvalidStorageKey("missing signature or object key")
    return canonical_object_key(raw_key)
