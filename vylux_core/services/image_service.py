"""ImageService: signed ``/img`` renditions from memory, the media cache or the source."""

from __future__ import annotations

import enum
import hashlib

from attrs import Factory, field, frozen

from vylux_core.byte_lru import ByteLRU
from vylux_core.content_hash import content_hash_of
from vylux_core.errors import (
    InvalidImageOptions,
    ObjectNotFound,
    ProcessingFailed,
    SourceTooLarge,
    StorageUnavailable,
    UnprocessableImage,
    VyluxError,
)
from vylux_core.image_options import (
    ImageFormat,
    ImageOptions,
    effective_quality,
    parse_image_options,
    processing_hash,
)
from vylux_core.image_path import parse_image_request_path
from vylux_core.ports.image_cache_index import CacheEntry, ImageCacheIndex
from vylux_core.ports.image_processor import ImageProcessor, ImageTransform
from vylux_core.ports.object_store import ObjectStore
from vylux_core.result_budget import ResultBudget
from vylux_core.signing import UrlSigner
from vylux_core.single_flight import SingleFlight
from vylux_core.storage_keys import rendition_cache_key
from vylux_core.write_behind import WriteBehind


class RenditionSource(enum.StrEnum):
    """Where a rendition came from (the ``vylux_image_results_total`` labels)."""

    MEMORY = "memory_hit"
    STORAGE = "storage_hit"
    PROCESSED = "processed"


class SourceFetchFailed(VyluxError):
    """Wraps the source store's error so the HTTP layer can tell the stage (404/502)."""

    code = "source_fetch_failed"

    def __init__(self, cause: VyluxError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def etag_of(data: bytes) -> str:
    """Strong ETag of the bytes, as the reference computes it (§5.1.7)."""
    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


@frozen(kw_only=True)
class Rendition:
    data: bytes
    format: ImageFormat
    source: RenditionSource
    etag: str


@frozen
class CachedRendition:
    """A rendition's bytes in the memory cache, with what a hit answers worked out
    once: hashing a 50 KB body for the ETag took longer than the rest of serving a
    cache hit, and even building the hit's :class:`Rendition` was a noticeable part."""

    data: bytes
    etag: str
    format: ImageFormat
    hit: Rendition = field(init=False, eq=False, repr=False)

    @hit.default
    def _hit(self) -> Rendition:
        return Rendition(
            data=self.data, format=self.format, source=RenditionSource.MEMORY, etag=self.etag
        )

    @classmethod
    def of(cls, data: bytes, fmt: ImageFormat) -> CachedRendition:
        return cls(data, etag_of(data), fmt)

    def __len__(self) -> int:
        return len(self.data)


MAX_REMEMBERED_REQUESTS = 4096


@frozen(kw_only=True)
class ImageLimits:
    max_source_bytes: int = 50 << 20
    max_cache_object_bytes: int = 64 << 20
    budget: ResultBudget = Factory(ResultBudget)


class ImageService:
    """Memory LRU → media-store ``cache/`` copy → source fetch + transform.

    Identical concurrent misses share one fetch-and-transform (single flight). A
    produced rendition goes into the LRU at once and into the media store in the
    background (:class:`WriteBehind`); its cleanup-tracking row is written then, not
    on every hit (the reference wrote the database on every request, §13.13).
    """

    def __init__(
        self,
        *,
        signer: UrlSigner,
        source: ObjectStore,
        media: ObjectStore,
        processor: ImageProcessor,
        cache: ByteLRU[CachedRendition],
        cache_index: ImageCacheIndex,
        write_behind: WriteBehind,
        limits: ImageLimits,
    ) -> None:
        self._signer = signer
        self._source = source
        self._media = media
        self._processor = processor
        self._cache = cache
        self._cache_index = cache_index
        self._write_behind = write_behind
        self._limits = limits
        self._flights: SingleFlight[Rendition] = SingleFlight()
        # (signature, options, remainder) as requested → processing hash and format.
        # Parsing and verifying are pure functions of those strings, so a request seen
        # before needs neither again: they were a third of serving a memory hit.
        self._verified: dict[tuple[str, str, str], str] = {}

    async def render(self, signature: str, raw_options: str, remainder: str) -> Rendition:
        """Validate, verify and produce the rendition of an ``/img`` request.

        Raises (in the reference's order) ``InvalidStorageKey``/``UnsupportedFormat``/
        ``InvalidImageOptions`` (400), ``InvalidSignature`` (403),
        ``SourceFetchFailed`` (404/502), ``UnprocessableImage`` (422) and
        ``ProcessingFailed`` (500).
        """
        verified = self._verified.get((signature, raw_options, remainder))
        if verified is not None:
            cached = self._cache.get(verified)
            if cached is not None:
                return cached.hit
        source_key, fmt = parse_image_request_path(remainder)
        options = parse_image_options(raw_options)
        if (excess := self._limits.budget.box_excess(options.width, options.height)) is not None:
            raise InvalidImageOptions(f"bad options: {excess}")
        self._signer.verify_image(signature, options, source_key, fmt)
        key = processing_hash(source_key, options, fmt)
        self._remember_verified((signature, raw_options, remainder), key)
        cached = self._cache.get(key)
        if cached is not None:
            return cached.hit
        return await self._flights.run(key, lambda: self._produce(key, source_key, options, fmt))

    def _remember_verified(self, request: tuple[str, str, str], key: str) -> None:
        if len(self._verified) >= MAX_REMEMBERED_REQUESTS:
            # Oldest first (dicts keep insertion order): crude, but a hot URL that
            # falls out comes straight back on its next request.
            del self._verified[next(iter(self._verified))]
        self._verified[request] = key

    async def _produce(
        self, key: str, source_key: str, options: ImageOptions, fmt: ImageFormat
    ) -> Rendition:
        storage_key = rendition_cache_key(key, fmt.extension)
        try:
            stored = await self._media.read_bytes(
                storage_key, max_bytes=self._limits.max_cache_object_bytes
            )
        except VyluxError:
            stored = None  # any cache failure is a miss; the source is the truth
        if stored is not None:
            entry = CachedRendition.of(stored, fmt)
            self._cache.put(key, entry)
            return Rendition(
                data=stored, format=fmt, source=RenditionSource.STORAGE, etag=entry.etag
            )
        data = await self._transform(source_key, options, fmt)
        entry = CachedRendition.of(data, fmt)
        self._cache.put(key, entry)
        self._write_behind.submit(
            f"rendition {storage_key}", self._store(key, storage_key, source_key, data, fmt)
        )
        return Rendition(data=data, format=fmt, source=RenditionSource.PROCESSED, etag=entry.etag)

    async def _transform(self, source_key: str, options: ImageOptions, fmt: ImageFormat) -> bytes:
        try:
            original = await self._source.read_bytes(
                source_key, max_bytes=self._limits.max_source_bytes
            )
        except SourceTooLarge as error:
            raise UnprocessableImage(
                f"source image exceeds the {error.max_bytes}-byte limit"
            ) from error
        except (ObjectNotFound, StorageUnavailable) as error:
            raise SourceFetchFailed(error) from error
        transform = ImageTransform(
            format=fmt,
            quality=effective_quality(options, fmt),
            width=options.width or None,
            height=options.height or None,
        )
        rendition = await self._processor.transform(original, transform)
        if not rendition.data:
            raise ProcessingFailed("image processing failed")
        return rendition.data

    async def _store(
        self, key: str, storage_key: str, source_key: str, data: bytes, fmt: ImageFormat
    ) -> None:
        # Row first: an object stored without its row could never be purged by hash.
        media_hash = content_hash_of(source_key)
        if media_hash is not None:
            await self._cache_index.record(CacheEntry(media_hash, key, storage_key))
        await self._media.put_bytes(storage_key, data, content_type=fmt.mime_type)
