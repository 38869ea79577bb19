"""ImageService: signed ``/img`` renditions from memory, the media cache or the source."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from attrs import field, frozen

from vylux_core.errors import (
    InvalidImageOptions,
    ObjectNotFound,
    ProcessingFailed,
    StorageUnavailable,
    UnprocessableImage,
    VyluxError,
)
from vylux_core.images.byte_budget import ByteBudget, Reservation
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.limits import ImageLimits
from vylux_core.images.options import (
    ImageFormat,
    effective_quality,
    format_of_bytes,
    parse_image_options,
    processing_hash,
)
from vylux_core.images.path import parse_image_request_path
from vylux_core.images.single_flight import SingleFlight
from vylux_core.images.write_behind import WriteBehind
from vylux_core.media.media_hash import media_hash_of_source_key
from vylux_core.media.storage_keys import rendition_cache_key
from vylux_core.ports.image_cache_index import CacheEntry, ImageCacheIndex
from vylux_core.ports.image_processor import ImageProcessor, ImageTransform
from vylux_core.ports.object_store import ObjectReader, ObjectStore
from vylux_core.security.signing import UrlSigner


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
    """Strong ETag of the bytes (format: spec §5.1.7)."""
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
    once: hashing the body for the ETag, or even building the hit's :class:`Rendition`,
    would be a large part of serving a cache hit."""

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


@frozen(kw_only=True)
class Document:
    """A JSON answer derived from a source (the imgproxy info endpoint's), as served."""

    data: bytes
    etag: str
    source: RenditionSource


@frozen
class CachedDocument:
    """A :class:`Document`'s bytes in the memory cache, beside the renditions (so the
    same budget bounds both, and a purge by media hash drops both)."""

    data: bytes
    etag: str
    hit: Document = field(init=False, eq=False, repr=False)

    @hit.default
    def _hit(self) -> Document:
        return Document(data=self.data, etag=self.etag, source=RenditionSource.MEMORY)

    @classmethod
    def of(cls, data: bytes) -> CachedDocument:
        return cls(data, etag_of(data))

    def __len__(self) -> int:
        return len(self.data)


CachedEntry = CachedRendition | CachedDocument
"""What the memory cache holds."""

DOCUMENT_EXTENSION = "json"
"""Storage-cache extension of documents."""

T = TypeVar("T")

MAX_REMEMBERED_REQUESTS = 4096
STORED_BY_CONTENT = "img"
"""Storage-cache extension of renditions whose format the source decided."""
MAX_REMEMBERED_REFUSALS = 1024


@frozen
class _Refusal:
    """A rendition refused (422), the size of the source it was refused for (standing
    for the source's version: a replaced source is tried again) and until when."""

    message: str
    source_size: int
    expires: float


def _nothing() -> None:
    return None


class _SharedSource:
    """One read of a source, shared by every render of it that overlaps in time.

    Its bytes (and their budget reservation) are kept while any render still uses
    them and dropped with the last one, so sixteen renders of one 50 MB source hold
    50 MB, not 800. A failed read is forgotten at once: the next render tries again.
    """

    def __init__(self, loading: asyncio.Future[tuple[bytearray, Reservation]]) -> None:
        self.loading = loading
        self.users = 0
        self.on_finish: Callable[[], None] = _nothing
        loading.add_done_callback(self._loaded)

    def _loaded(self, loading: asyncio.Future[tuple[bytearray, Reservation]]) -> None:
        failed = loading.cancelled() or loading.exception() is not None
        if failed or self.users == 0:
            self._finish()

    def leave(self) -> None:
        self.users -= 1
        if self.users == 0 and self.loading.done():
            self._finish()

    def _finish(self) -> None:
        # Dropping the callback breaks the cycle through it (it names this object), so
        # the source's bytes are freed now, not at the next full garbage collection.
        on_finish, self.on_finish = self.on_finish, _nothing
        on_finish()
        loading = self.loading
        if not loading.cancelled() and loading.exception() is None:
            loading.result()[1].release()


async def read_into_buffer(reader: ObjectReader, size: int) -> bytearray:
    """The object's bytes in one buffer allocated up front and filled by the reader in
    one call: a list of chunks joined at the end would hold the object twice, and
    copying chunk by chunk on the event loop would hold up every other request."""
    buffer = bytearray(size)
    with memoryview(buffer) as view:
        filled = await reader.readinto(view)
    if filled != size:
        raise StorageUnavailable("source object was cut short while it was read")
    with memoryview(bytearray(1)) as probe:
        if await reader.readinto(probe):
            raise StorageUnavailable("source object grew while it was read")
    return buffer


class ImageService:
    """Memory LRU → media-store ``cache/`` copy → source fetch + transform.

    Identical concurrent misses share one fetch-and-transform (single flight). A
    produced rendition goes into the LRU at once and into the media store in the
    background (:class:`WriteBehind`); its cleanup-tracking row is written then, not
    on every hit, so a hit neither writes to nor waits for the database (D101).

    Memory: concurrent renders of one source share one read of it
    (:class:`_SharedSource`), held only under a reservation of its size in the
    process's :class:`ByteBudget` (``Overloaded``, HTTP 503, when none comes within
    the wait); a 422 is remembered per rendition for a short time while the source
    keeps its size, so asking again does not read the source again.
    """

    def __init__(
        self,
        *,
        signer: UrlSigner,
        source: ObjectStore,
        media: ObjectStore,
        processor: ImageProcessor,
        cache: ByteLRU[CachedEntry],
        cache_index: ImageCacheIndex,
        write_behind: WriteBehind,
        limits: ImageLimits,
        now: Callable[[], float] = time.monotonic,
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
        self._document_flights: SingleFlight[Document] = SingleFlight()
        self._budget = ByteBudget(
            limits.source_bytes_in_flight, wait_seconds=limits.budget_wait_seconds
        )
        self._sources: dict[str, _SharedSource] = {}
        self._refusals: dict[str, _Refusal] = {}
        self._now = now
        # (signature, options, remainder) as requested → processing hash and format.
        # Parsing and verifying are pure functions of those strings, so a request seen
        # before needs neither again: they are a large part of serving a memory hit.
        self._verified: dict[tuple[str, str, str], str] = {}

    async def render(self, signature: str, raw_options: str, remainder: str) -> Rendition:
        """Validate, verify and produce the rendition of an ``/img`` request.

        Raises (in the spec's order) ``InvalidStorageKey``/``UnsupportedFormat``/
        ``InvalidImageOptions`` (400), ``InvalidSignature`` (403),
        ``SourceFetchFailed`` (404/502), ``UnprocessableImage`` (422) and
        ``ProcessingFailed`` (500).
        """
        verified = self._verified.get((signature, raw_options, remainder))
        if verified is not None:
            cached = self._cache.get(verified)
            if isinstance(cached, CachedRendition):
                return cached.hit
        source_key, fmt = parse_image_request_path(remainder)
        options = parse_image_options(raw_options)
        if (
            excess := self._limits.result_budget.box_excess(options.width, options.height)
        ) is not None:
            raise InvalidImageOptions(f"bad options: {excess}")
        self._signer.verify_image(signature, options, source_key, fmt)
        key = processing_hash(source_key, options, fmt)
        self._remember_verified((signature, raw_options, remainder), key)
        cached = self._cache.get(key)
        if isinstance(cached, CachedRendition):
            return cached.hit
        transform = ImageTransform(
            format=fmt,
            quality=effective_quality(options, fmt),
            width=options.width or None,
            height=options.height or None,
        )
        return await self._flights.run(key, lambda: self._produce(key, source_key, transform))

    async def rendition(self, key: str, source_key: str, transform: ImageTransform) -> Rendition:
        """The rendition ``key`` names, made by ``transform`` of ``source_key`` on a
        miss: the memory LRU, the storage cache, single flight, the byte budget and
        cleanup tracking of ``/img``, for callers that parsed and verified their own
        request (the imgproxy route family). ``key`` must identify ``transform``."""
        cached = self._cache.get(key)
        if isinstance(cached, CachedRendition):
            return cached.hit
        return await self._flights.run(key, lambda: self._produce(key, source_key, transform))

    async def document(
        self, key: str, source_key: str, make: Callable[[bytearray], Awaitable[bytes]]
    ) -> Document:
        """The document ``key`` names, made by ``make`` from the source's bytes on a
        miss (the imgproxy info endpoint's JSON): the memory LRU, the storage cache,
        single flight, the shared source read and cleanup tracking, as for a
        rendition. ``key`` must identify ``make`` and never name a rendition."""
        cached = self._cache.get(key)
        if isinstance(cached, CachedDocument):
            return cached.hit
        return await self._document_flights.run(
            key, lambda: self._produce_document(key, source_key, make)
        )

    async def _produce_document(
        self, key: str, source_key: str, make: Callable[[bytearray], Awaitable[bytes]]
    ) -> Document:
        storage_key = rendition_cache_key(key, DOCUMENT_EXTENSION)
        stored = await self._stored_copy(storage_key)
        if stored is not None:
            entry = CachedDocument.of(stored)
            self._cache.put(key, entry)
            return Document(data=stored, etag=entry.etag, source=RenditionSource.STORAGE)

        async def checked(original: bytearray) -> bytes:
            data = await make(original)
            if not data:
                raise ProcessingFailed("image processing failed")
            return data

        data = await self._with_source(source_key, checked)
        entry = CachedDocument.of(data)
        self._cache.put(key, entry)
        self._write_behind.submit(
            f"document {storage_key}",
            self._store(key, storage_key, source_key, data, "application/json"),
        )
        return Document(data=data, etag=entry.etag, source=RenditionSource.PROCESSED)

    async def _stored_copy(self, storage_key: str) -> bytes | None:
        """The copy in the media store; None on any failure: a cache failure is a miss,
        the source is the truth."""
        try:
            return await self._media.read_bytes(
                storage_key, max_bytes=self._limits.max_cache_object_bytes
            )
        except VyluxError:
            return None

    def _remember_verified(self, request: tuple[str, str, str], key: str) -> None:
        if len(self._verified) >= MAX_REMEMBERED_REQUESTS:
            # Oldest first (dicts keep insertion order): crude, but a hot URL that
            # falls out comes straight back on its next request.
            del self._verified[next(iter(self._verified))]
        self._verified[request] = key

    async def _produce(self, key: str, source_key: str, transform: ImageTransform) -> Rendition:
        # A format decided by the source is unknown until it is rendered: such renditions
        # are stored under a neutral extension and recognised by their bytes.
        by_content = transform.format_known_after
        extension = STORED_BY_CONTENT if by_content else transform.format.extension
        storage_key = rendition_cache_key(key, extension)
        stored = await self._stored_copy(storage_key)
        stored_format = None
        if stored is not None:
            stored_format = format_of_bytes(stored) if by_content else transform.format
        if stored is not None and stored_format is not None:
            entry = CachedRendition.of(stored, stored_format)
            self._cache.put(key, entry)
            return Rendition(
                data=stored, format=stored_format, source=RenditionSource.STORAGE, etag=entry.etag
            )
        data, fmt = await self._transform(key, source_key, transform)
        entry = CachedRendition.of(data, fmt)
        self._cache.put(key, entry)
        self._write_behind.submit(
            f"rendition {storage_key}",
            self._store(key, storage_key, source_key, data, fmt.mime_type),
        )
        return Rendition(data=data, format=fmt, source=RenditionSource.PROCESSED, etag=entry.etag)

    async def _transform(
        self, key: str, source_key: str, transform: ImageTransform
    ) -> tuple[bytes, ImageFormat]:
        await self._repeat_refusal(key, source_key)

        async def render(original: bytearray) -> tuple[bytes, ImageFormat]:
            try:
                rendition = await self._processor.transform(original, transform)
            except UnprocessableImage as error:
                self._remember_refusal(key, len(original), error.message)
                raise
            if not rendition.data:
                raise ProcessingFailed("image processing failed")
            return rendition.data, rendition.format

        return await self._with_source(source_key, render)

    async def _repeat_refusal(self, key: str, source_key: str) -> None:
        """Raise the refusal remembered for this rendition if its source is unchanged:
        refusing a 50 MB source again would mean reading all of it again."""
        refusal = self._refusals.get(key)
        if refusal is None:
            return
        if refusal.expires <= self._now():
            self._refusals.pop(key, None)
            return
        try:
            size = (await self._source.stat(source_key)).size
        except (ObjectNotFound, StorageUnavailable) as error:
            raise SourceFetchFailed(error) from error
        if size == refusal.source_size:
            raise UnprocessableImage(refusal.message)
        self._refusals.pop(key, None)

    async def with_source(self, source_key: str, use: Callable[[bytearray], Awaitable[T]]) -> T:
        """Run ``use`` on the source's bytes under the same shared read, size limit and
        byte budget as a render (for work on a source that is not a rendition)."""
        return await self._with_source(source_key, use)

    async def _with_source(self, source_key: str, use: Callable[[bytearray], Awaitable[T]]) -> T:
        """Run ``use`` on the source's bytes, read once for every overlapping render."""
        shared = self._sources.get(source_key)
        if shared is None:
            shared = _SharedSource(asyncio.ensure_future(self._load_source(source_key)))
            self._sources[source_key] = shared
            shared.on_finish = lambda: self._forget_source(source_key, shared)
        shared.users += 1
        try:
            original, _ = await asyncio.shield(shared.loading)
            return await use(original)
        finally:
            shared.leave()

    def _forget_source(self, source_key: str, shared: _SharedSource) -> None:
        if self._sources.get(source_key) is shared:
            del self._sources[source_key]

    async def _load_source(self, source_key: str) -> tuple[bytearray, Reservation]:
        """Open the source, refuse it if too large, wait for room in the byte budget,
        then read it."""
        try:
            reader = await self._source.open(source_key)
        except (ObjectNotFound, StorageUnavailable) as error:
            raise SourceFetchFailed(error) from error
        try:
            size = reader.info.size
            if size > self._limits.max_source_bytes:
                raise UnprocessableImage(
                    f"source image exceeds the {self._limits.max_source_bytes}-byte limit"
                )
            reservation = await self._budget.acquire(size)
            try:
                data = await read_into_buffer(reader, size)
            except BaseException:
                reservation.release()
                raise
        except StorageUnavailable as error:
            raise SourceFetchFailed(error) from error
        finally:
            await reader.aclose()
        return data, reservation

    def _remember_refusal(self, key: str, source_size: int, message: str) -> None:
        self._refusals.pop(key, None)
        if len(self._refusals) >= MAX_REMEMBERED_REFUSALS:
            del self._refusals[next(iter(self._refusals))]
        expires = self._now() + self._limits.refusal_memory_seconds
        self._refusals[key] = _Refusal(message, source_size, expires)

    async def _store(
        self, key: str, storage_key: str, source_key: str, data: bytes, content_type: str
    ) -> None:
        # Row first: an object stored without its row could never be purged by hash.
        media_hash = media_hash_of_source_key(source_key)
        if media_hash is not None:
            await self._cache_index.record(CacheEntry(media_hash, key, storage_key))
        await self._media.put_bytes(storage_key, data, content_type=content_type)
