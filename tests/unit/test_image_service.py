"""ImageService on the in-memory adapters: pipeline order, cache layers, tracking, single flight."""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from vylux_adapters.memory import (
    FakeImageProcessor,
    MemoryImageCacheIndex,
    MemoryObjectStore,
    fake_image,
)
from vylux_adapters.memory.object_store import MemoryObjectReader
from vylux_core.errors import (
    InvalidImageOptions,
    InvalidSignature,
    InvalidStorageKey,
    ObjectNotFound,
    Overloaded,
    ProcessingFailed,
    StorageUnavailable,
    UnprocessableImage,
    UnsupportedFormat,
    VyluxError,
)
from vylux_core.images.byte_lru import ByteLRU
from vylux_core.images.options import ImageFormat, parse_image_options, processing_hash
from vylux_core.images.path import parse_image_request_path
from vylux_core.images.write_behind import WriteBehind
from vylux_core.ports.image_cache_index import CacheEntry
from vylux_core.ports.image_processor import ImageRendition, ImageTransform
from vylux_core.ports.object_store import ByteRange, ObjectInfo
from vylux_core.security.signing import UrlSigner
from vylux_core.services import image_service
from vylux_core.services.image_service import (
    CachedEntry,
    CachedRendition,
    ImageLimits,
    ImageService,
    Rendition,
    RenditionSource,
    SourceFetchFailed,
    etag_of,
)

SIGNER = UrlSigner(secret="test-hmac-secret")
SOURCE_KEY = "uploads/photo.png"
SOURCE = fake_image(400, 300)
HEX_A = "a" * 64
HEX_MIXED = "0123456789ABCDEF" * 4


# --- fakes -----------------------------------------------------------------------------------


class RecordingCacheIndex(MemoryImageCacheIndex):
    """The memory index, also remembering every row written (to prove none was)."""

    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[CacheEntry] = []

    async def record(self, entry: CacheEntry) -> None:
        self.recorded.append(entry)
        await super().record(entry)


class FaultyObjectStore(MemoryObjectStore):
    """A memory store whose reads of the listed keys fail as if the backend were down."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()
        self.opened: list[str] = []

    async def read_bytes(self, key: str, *, max_bytes: int) -> bytes:
        if key in self.down:
            raise StorageUnavailable(f"backend down reading {key}")
        return await super().read_bytes(key, max_bytes=max_bytes)

    async def open(self, key: str, byte_range: ByteRange | None = None) -> MemoryObjectReader:
        self.opened.append(key)
        if key in self.down:
            raise StorageUnavailable(f"backend down opening {key}")
        return await super().open(key, byte_range)


class GatedProcessor(FakeImageProcessor):
    """The fake processor, held at the door until ``gate`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def transform(self, source: bytes, transform: ImageTransform) -> ImageRendition:
        self.entered.set()
        await self.gate.wait()
        return await super().transform(source, transform)


class EmptyProcessor(FakeImageProcessor):
    """An encoder that "succeeds" with no bytes."""

    async def transform(self, source: bytes, transform: ImageTransform) -> ImageRendition:
        rendition = await super().transform(source, transform)
        return ImageRendition(data=b"", format=rendition.format, width=1, height=1)


@dataclass
class Rig:
    source: FaultyObjectStore
    media: FaultyObjectStore
    processor: FakeImageProcessor
    cache: ByteLRU[CachedEntry]
    index: RecordingCacheIndex
    write_behind: WriteBehind
    service: ImageService


def make_rig(
    *,
    processor: FakeImageProcessor | None = None,
    limits: ImageLimits | None = None,
    now: Callable[[], float] = time.monotonic,
) -> Rig:
    source = FaultyObjectStore()
    media = FaultyObjectStore()
    chosen = processor if processor is not None else FakeImageProcessor()
    cache = ByteLRU[CachedEntry](1 << 20)
    index = RecordingCacheIndex()
    write_behind = WriteBehind()
    service = ImageService(
        signer=SIGNER,
        source=source,
        media=media,
        processor=chosen,
        cache=cache,
        cache_index=index,
        write_behind=write_behind,
        limits=limits if limits is not None else ImageLimits(),
        now=now,
    )
    return Rig(source, media, chosen, cache, index, write_behind, service)


async def rig_with_source(
    key: str = SOURCE_KEY, data: bytes = SOURCE, *, processor: FakeImageProcessor | None = None
) -> Rig:
    rig = make_rig(processor=processor)
    await rig.source.put_bytes(key, data, content_type="image/png")
    return rig


def sign(opts: str, remainder: str) -> str:
    source_key, fmt = parse_image_request_path(remainder)
    return SIGNER.sign_image(parse_image_options(opts), source_key, fmt)


def hash_of(opts: str, remainder: str) -> str:
    source_key, fmt = parse_image_request_path(remainder)
    return processing_hash(source_key, parse_image_options(opts), fmt)


async def render(rig: Rig, opts: str, remainder: str) -> Rendition:
    return await rig.service.render(sign(opts, remainder), opts, remainder)


# --- 400s, then 403 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "remainder", "error", "message"),
    [
        pytest.param("w100", "", InvalidStorageKey, "missing source path", id="empty-remainder"),
        pytest.param(
            "w100", "photo.png.bmp", UnsupportedFormat, "unsupported output format", id="bmp"
        ),
        pytest.param(
            "w100", "photo", UnsupportedFormat, "unsupported output format", id="no-extension"
        ),
        pytest.param(
            "w100", "dir.d/photo", UnsupportedFormat, "unsupported output format", id="dot-in-dir"
        ),
        pytest.param(
            "w100", "photo%zz.webp", InvalidStorageKey, "invalid source encoding", id="bad-escape"
        ),
        pytest.param("w100", ".webp", InvalidStorageKey, "missing source key", id="empty-key"),
        pytest.param(
            "q0",
            "photo.png.webp",
            InvalidImageOptions,
            'bad options: invalid quality: "0" (must be 1-100)',
            id="q0",
        ),
        pytest.param(
            "q101",
            "photo.png.webp",
            InvalidImageOptions,
            'bad options: invalid quality: "101" (must be 1-100)',
            id="q101",
        ),
        pytest.param(
            "w-1",
            "photo.png.webp",
            InvalidImageOptions,
            'bad options: invalid width: "-1"',
            id="negative-width",
        ),
        pytest.param(
            "x100",
            "photo.png.webp",
            InvalidImageOptions,
            'bad options: unknown option prefix: "x"',
            id="unknown-letter",
        ),
        pytest.param(
            "w100__h5",
            "photo.png.webp",
            InvalidImageOptions,
            'bad options: invalid option token: ""',
            id="empty-token",
        ),
        pytest.param(
            "",
            "photo.png.webp",
            InvalidImageOptions,
            "bad options: options must not be empty",
            id="empty-options",
        ),
        pytest.param(
            "x1",
            "photo%zz.bmp",
            UnsupportedFormat,
            "unsupported output format",
            id="format-before-encoding-and-options",
        ),
        pytest.param(
            "x1",
            "photo%zz.webp",
            InvalidStorageKey,
            "invalid source encoding",
            id="encoding-before-options",
        ),
    ],
)
@pytest.mark.parametrize("signature", ["", "not-a-signature"])
async def test_bad_requests_are_400s_before_the_signature_is_checked(
    signature: str, opts: str, remainder: str, error: type[VyluxError], message: str
) -> None:
    rig = await rig_with_source("photo.png", SOURCE)
    with pytest.raises(error) as caught:
        await rig.service.render(signature, opts, remainder)
    assert type(caught.value) is error
    assert str(caught.value) == message
    assert rig.processor.calls == 0
    assert len(rig.cache) == 0


def _valid() -> str:
    return sign("w100", "photo.png.webp")


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("", id="empty"),
        pytest.param("bad-signature", id="garbage"),
        pytest.param(_valid().upper(), id="upper-case-hex"),
        pytest.param(_valid()[:-1], id="truncated"),
        pytest.param(sign("w200", "photo.png.webp"), id="other-options"),
        pytest.param(sign("w100", "photo.png.png"), id="other-format"),
        pytest.param(sign("w100", "other.png.webp"), id="other-source"),
        pytest.param(SIGNER.sign_original("photo.png.webp"), id="original-domain"),
    ],
)
async def test_a_wrong_signature_is_a_403_and_touches_nothing(signature: str) -> None:
    rig = await rig_with_source("photo.png", SOURCE)
    with pytest.raises(InvalidSignature, match=r"^invalid signature$"):
        await rig.service.render(signature, "w100", "photo.png.webp")
    assert rig.processor.calls == 0
    assert len(rig.cache) == 0
    assert len(rig.write_behind) == 0


async def test_the_signature_covers_the_canonical_request() -> None:
    rig = await rig_with_source("uploads/My Image.png", SOURCE)
    signature = sign("w300_h200", "uploads/My Image.png.jpg")
    rendition = await rig.service.render(signature, "h200_w+300", "uploads%2FMy%20Image.png.JPEG")
    assert rendition.format is ImageFormat.JPG
    assert rendition.data == fake_image(300, 200) + b"jpg q80"


async def test_a_verified_url_is_not_trusted_with_another_signature_or_path() -> None:
    # Repeat requests skip parsing and verification; nothing else may ride on that.
    rig = await rig_with_source("photo.png", SOURCE)
    good = sign("w100", "photo.png.webp")
    await rig.service.render(good, "w100", "photo.png.webp")

    for signature, opts, remainder in [
        (good[:-1] + ("A" if good[-1] != "A" else "B"), "w100", "photo.png.webp"),
        (good, "w200", "photo.png.webp"),
        (good, "w100", "photo.png.png"),
        (good, "w100", "other.png.webp"),
    ]:
        with pytest.raises(InvalidSignature):
            await rig.service.render(signature, opts, remainder)
    again = await rig.service.render(good, "w100", "photo.png.webp")
    assert again.source is RenditionSource.MEMORY


async def test_a_verified_url_whose_rendition_left_memory_is_produced_again() -> None:
    rig = await rig_with_source()
    remainder = SOURCE_KEY + ".webp"
    first = await render(rig, "w200", remainder)
    assert rig.cache.discard(hash_of("w200", remainder))

    again = await render(rig, "w200", remainder)

    assert again.source is not RenditionSource.MEMORY
    assert again.data == first.data


async def test_remembered_urls_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_service, "MAX_REMEMBERED_REQUESTS", 3)
    rig = await rig_with_source()
    remainder = SOURCE_KEY + ".webp"
    for width in range(10, 20):
        await render(rig, f"w{width}", remainder)
        assert len(rig.service._verified) <= 3
    # Still served correctly once forgotten.
    assert (await render(rig, "w10", remainder)).source is RenditionSource.MEMORY


# --- the cache layers --------------------------------------------------------------------------


async def test_processed_then_served_from_memory_without_processing_again() -> None:
    rig = await rig_with_source()
    remainder = SOURCE_KEY + ".webp"

    first = await render(rig, "w200", remainder)
    second = await render(rig, "w200", remainder)

    assert first.source is RenditionSource.PROCESSED
    assert second.source is RenditionSource.MEMORY
    assert second.data == first.data
    assert second.format is ImageFormat.WEBP
    assert rig.processor.calls == 1
    assert rig.cache.get(hash_of("w200", remainder)) == CachedRendition.of(
        first.data, ImageFormat.WEBP
    )


async def test_renditions_with_the_same_processing_hash_share_the_memory_entry() -> None:
    # w300 on webp means quality 80, so w300 and w300_q80 are one rendition (spec §5.1.5).
    rig = await rig_with_source()
    remainder = SOURCE_KEY + ".webp"
    first = await render(rig, "w300", remainder)
    second = await render(rig, "w300_q80", remainder)
    assert (first.source, second.source) == (RenditionSource.PROCESSED, RenditionSource.MEMORY)
    assert rig.processor.calls == 1


async def test_a_stored_rendition_is_served_and_promoted_without_the_source_or_processor() -> None:
    rig = make_rig()  # no source object at all: a storage hit must not need one
    remainder = SOURCE_KEY + ".webp"
    key = hash_of("w200", remainder)
    await rig.media.put_bytes(f"cache/{key}.webp", b"stored rendition", content_type="image/webp")

    first = await render(rig, "w200", remainder)
    second = await render(rig, "w200", remainder)

    assert first.source is RenditionSource.STORAGE
    assert first.data == b"stored rendition"
    assert rig.cache.get(key) == CachedRendition.of(b"stored rendition", ImageFormat.WEBP)
    assert second.source is RenditionSource.MEMORY
    assert rig.processor.calls == 0
    assert len(rig.write_behind) == 0


async def test_an_unreadable_media_cache_counts_as_a_miss() -> None:
    rig = await rig_with_source()
    remainder = SOURCE_KEY + ".webp"
    key = hash_of("w200", remainder)
    await rig.media.put_bytes(f"cache/{key}.webp", b"stored rendition", content_type="image/webp")
    rig.media.down.add(f"cache/{key}.webp")

    rendition = await render(rig, "w200", remainder)

    assert rendition.source is RenditionSource.PROCESSED
    assert rendition.data == fake_image(200, 150) + b"webp q80"


@pytest.mark.parametrize(
    ("opts", "ext", "want"),
    [
        pytest.param("w100_h100", "webp", fake_image(100, 100) + b"webp q80", id="cover-exact"),
        pytest.param("w500_h100", "webp", fake_image(500, 100) + b"webp q80", id="cover-wide"),
        pytest.param("w200", "webp", fake_image(200, 150) + b"webp q80", id="width-only-fits"),
        pytest.param("h150", "webp", fake_image(200, 150) + b"webp q80", id="height-only-fits"),
        pytest.param("w0_h150", "webp", fake_image(200, 150) + b"webp q80", id="w0-is-unset"),
        pytest.param("q60", "webp", fake_image(400, 300) + b"webp q60", id="no-resize"),
        pytest.param("w40_h30_q42", "jpg", fake_image(40, 30) + b"jpg q42", id="explicit-quality"),
        pytest.param("w40", "avif", fake_image(40, 30) + b"avif q50", id="avif-default-q"),
        pytest.param("w40", "png", fake_image(40, 30) + b"png q0", id="png-no-quality"),
        pytest.param("w40", "gif", fake_image(40, 30) + b"gif q0", id="gif-no-quality"),
    ],
)
async def test_a_processed_rendition_has_the_requested_geometry(
    opts: str, ext: str, want: bytes
) -> None:
    rig = await rig_with_source()
    rendition = await render(rig, opts, f"{SOURCE_KEY}.{ext}")
    assert rendition.source is RenditionSource.PROCESSED
    assert rendition.data == want
    assert rendition.format.extension == ext


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        pytest.param("webp", "image/webp", id="webp"),
        pytest.param("avif", "image/avif", id="avif"),
        pytest.param("jpg", "image/jpeg", id="jpg"),
        pytest.param("png", "image/png", id="png"),
        pytest.param("gif", "image/gif", id="gif"),
    ],
)
async def test_a_processed_rendition_is_written_behind_into_the_media_cache(
    ext: str, content_type: str
) -> None:
    rig = await rig_with_source()
    remainder = f"{SOURCE_KEY}.{ext}"
    rendition = await render(rig, "w64", remainder)
    storage_key = f"cache/{hash_of('w64', remainder)}.{ext}"

    assert await rig.write_behind.drain() == 0

    assert (await rig.media.stat(storage_key)).content_type == content_type
    assert await rig.media.read_bytes(storage_key, max_bytes=1 << 20) == rendition.data
    assert [key async for key in rig.media.list("")] == [storage_key]


# --- cleanup tracking (§5.1.8) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_key", "want_hash"),
    [
        pytest.param(f"uploads/aa/{HEX_A}", HEX_A, id="bare-hex-segment"),
        pytest.param(f"{HEX_A}/photo.png", HEX_A, id="first-segment"),
        pytest.param(f"u/sha256:{HEX_MIXED}/x.png", HEX_MIXED.lower(), id="prefixed-upper-case"),
        pytest.param(f"u/{HEX_A}/{'b' * 64}", HEX_A, id="first-match-wins"),
        pytest.param(f"uploads/{HEX_A}.png", None, id="hex-with-extension"),
        pytest.param(f"uploads/{'a' * 63}/x.png", None, id="63-hex"),
        pytest.param(f"uploads/{'a' * 65}/x.png", None, id="65-hex"),
        pytest.param(f"uploads/SHA256:{HEX_A}/x.png", None, id="upper-case-prefix"),
        pytest.param(f"uploads/{'g' * 64}/x.png", None, id="not-hex"),
        pytest.param("uploads/plain.png", None, id="no-hash"),
    ],
)
async def test_a_produced_rendition_is_tracked_only_under_a_content_hash(
    source_key: str, want_hash: str | None
) -> None:
    rig = await rig_with_source(source_key)
    remainder = source_key + ".webp"
    await render(rig, "w64", remainder)
    await rig.write_behind.drain()

    key = hash_of("w64", remainder)
    want = [] if want_hash is None else [CacheEntry(want_hash, key, f"cache/{key}.webp")]
    assert rig.index.recorded == want
    if want_hash is not None:
        assert await rig.index.list_by_hash(want_hash) == want


async def test_a_memory_hit_writes_no_tracking_row() -> None:
    source_key = f"uploads/aa/{HEX_A}"
    rig = await rig_with_source(source_key)
    remainder = source_key + ".webp"
    await render(rig, "w64", remainder)
    await rig.write_behind.drain()
    assert len(await rig.index.list_by_hash(HEX_A)) == 1
    assert await rig.index.delete_by_hash(HEX_A) == 1

    again = await render(rig, "w64", remainder)
    await rig.write_behind.drain()

    assert again.source is RenditionSource.MEMORY
    assert await rig.index.list_by_hash(HEX_A) == []
    assert len(rig.index.recorded) == 1


# --- failures ------------------------------------------------------------------------------------


async def test_a_missing_source_is_a_source_fetch_failure_wrapping_not_found() -> None:
    rig = make_rig()
    with pytest.raises(SourceFetchFailed) as caught:
        await render(rig, "w64", "missing.png.webp")
    assert isinstance(caught.value.cause, ObjectNotFound)
    assert caught.value.__cause__ is caught.value.cause
    assert rig.processor.calls == 0
    assert len(rig.cache) == 0
    assert len(rig.write_behind) == 0


async def test_an_unreachable_source_is_a_source_fetch_failure_wrapping_unavailable() -> None:
    rig = await rig_with_source()
    rig.source.down.add(SOURCE_KEY)
    with pytest.raises(SourceFetchFailed) as caught:
        await render(rig, "w64", SOURCE_KEY + ".webp")
    assert isinstance(caught.value.cause, StorageUnavailable)


@pytest.mark.parametrize(
    ("limit", "fails"),
    [
        pytest.param(len(SOURCE) - 1, True, id="one-byte-over"),
        pytest.param(len(SOURCE), False, id="exactly-at-limit"),
    ],
)
async def test_the_source_byte_limit(limit: int, fails: bool) -> None:
    rig = make_rig(limits=ImageLimits(max_source_bytes=limit))
    await rig.source.put_bytes(SOURCE_KEY, SOURCE, content_type="image/png")
    if fails:
        with pytest.raises(UnprocessableImage, match=f"exceeds the {limit}-byte limit"):
            await render(rig, "w64", SOURCE_KEY + ".webp")
        assert rig.processor.calls == 0
    else:
        rendition = await render(rig, "w64", SOURCE_KEY + ".webp")
        assert rendition.source is RenditionSource.PROCESSED


async def test_a_corrupt_source_is_unprocessable_and_nothing_is_cached() -> None:
    rig = await rig_with_source(data=b"not-a-valid-image")
    with pytest.raises(UnprocessableImage):
        await render(rig, "w64", SOURCE_KEY + ".webp")
    await rig.write_behind.drain()
    assert len(rig.cache) == 0
    assert [key async for key in rig.media.list("")] == []


async def test_an_empty_encoder_result_is_a_processing_failure() -> None:
    rig = await rig_with_source(processor=EmptyProcessor())
    with pytest.raises(ProcessingFailed, match=r"^image processing failed$") as caught:
        await render(rig, "w64", SOURCE_KEY + ".webp")
    assert type(caught.value) is ProcessingFailed
    assert len(rig.cache) == 0


async def test_a_failure_is_not_remembered() -> None:
    rig = make_rig()
    with pytest.raises(SourceFetchFailed):
        await render(rig, "w64", SOURCE_KEY + ".webp")
    await rig.source.put_bytes(SOURCE_KEY, SOURCE, content_type="image/png")
    rendition = await render(rig, "w64", SOURCE_KEY + ".webp")
    assert rendition.source is RenditionSource.PROCESSED


# --- single flight -----------------------------------------------------------------------------


async def test_concurrent_identical_requests_share_one_transform() -> None:
    processor = GatedProcessor()
    rig = await rig_with_source(processor=processor)

    async def open_gate_once_processing() -> None:
        await processor.entered.wait()
        processor.gate.set()

    renditions, _ = await asyncio.gather(
        asyncio.gather(*(render(rig, "w64", SOURCE_KEY + ".webp") for _ in range(20))),
        open_gate_once_processing(),
    )

    assert processor.calls == 1
    assert {r.data for r in renditions} == {fake_image(64, 48) + b"webp q80"}
    assert len(renditions) == 20
    await rig.write_behind.drain()
    assert len([key async for key in rig.media.list("cache/")]) == 1


async def test_distinct_renditions_are_processed_separately() -> None:
    rig = await rig_with_source()
    requests = [("w64", "webp"), ("w32", "webp"), ("w64", "png"), ("w64_q10", "webp")]
    renditions = await asyncio.gather(
        *(render(rig, opts, f"{SOURCE_KEY}.{ext}") for opts, ext in requests)
    )
    assert rig.processor.calls == len(requests)
    assert len({r.data for r in renditions}) == len(requests)


async def test_a_cancelled_waiter_does_not_cancel_the_shared_work() -> None:
    processor = GatedProcessor()
    rig = await rig_with_source(processor=processor)
    remainder = SOURCE_KEY + ".webp"

    starter = asyncio.create_task(render(rig, "w64", remainder))
    await processor.entered.wait()
    joiner = asyncio.create_task(render(rig, "w64", remainder))
    await asyncio.sleep(0)  # let the joiner reach the shared flight
    starter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starter
    late = asyncio.create_task(render(rig, "w64", remainder))
    await asyncio.sleep(0)
    processor.gate.set()

    joined, late_result = await asyncio.gather(joiner, late)

    assert processor.calls == 1
    assert joined.source is RenditionSource.PROCESSED
    assert late_result.data == joined.data == fake_image(64, 48) + b"webp q80"
    assert rig.cache.get(hash_of("w64", remainder)) == CachedRendition.of(
        joined.data, ImageFormat.WEBP
    )


# --- ETag --------------------------------------------------------------------------------------


def test_etag_is_the_quoted_first_16_hex_of_the_body_digest() -> None:
    assert CachedRendition.of(b"hello", ImageFormat.WEBP).etag == '"2cf24dba5fb0a30e"'


async def test_etag_of_a_processed_rendition_has_the_documented_shape() -> None:
    rig = await rig_with_source()
    rendition = await render(rig, "w64", SOURCE_KEY + ".webp")
    assert re.fullmatch(r'"[0-9a-f]{16}"', rendition.etag)


# --- memory under concurrent large sources ----------------------------------------------------


class CountingStore(FaultyObjectStore):
    """Counts whole-object reads: every chunk iteration of an opened object."""

    def __init__(self) -> None:
        super().__init__()
        self.stats: list[str] = []

    async def stat(self, key: str) -> ObjectInfo:
        self.stats.append(key)
        return await super().stat(key)


class RefusingProcessor(FakeImageProcessor):
    """Refuses every source, as libvips does a header over the pixel limit."""

    async def transform(
        self, source: bytes | bytearray, transform: ImageTransform
    ) -> ImageRendition:
        self.calls += 1
        raise UnprocessableImage("image exceeds the pixel limit")


async def test_concurrent_renders_of_distinct_options_of_one_source_read_it_once() -> None:
    processor = GatedProcessor()
    rig = await rig_with_source(processor=processor)
    options = [f"w{width}" for width in range(10, 26)]

    async def open_gate_once_processing() -> None:
        await processor.entered.wait()
        processor.gate.set()

    renditions, _ = await asyncio.gather(
        asyncio.gather(*(render(rig, opts, SOURCE_KEY + ".webp") for opts in options)),
        open_gate_once_processing(),
    )

    assert processor.calls == len(options)
    assert len({r.data for r in renditions}) == len(options)
    assert rig.source.opened == [SOURCE_KEY]
    # Once the group is done the bytes are dropped: a later render reads again.
    await render(rig, "w99", SOURCE_KEY + ".webp")
    assert rig.source.opened == [SOURCE_KEY, SOURCE_KEY]


async def test_a_render_over_the_byte_budget_waits_then_is_overloaded() -> None:
    processor = GatedProcessor()
    limits = ImageLimits(source_bytes_in_flight=len(SOURCE), budget_wait_seconds=0.01)
    rig = make_rig(processor=processor, limits=limits)
    await rig.source.put_bytes("a.png", SOURCE, content_type="image/png")
    await rig.source.put_bytes("b.png", SOURCE, content_type="image/png")

    holding = asyncio.create_task(render(rig, "w64", "a.png.webp"))
    await processor.entered.wait()  # a.png's bytes fill the budget while it renders
    with pytest.raises(Overloaded) as caught:
        await render(rig, "w64", "b.png.webp")
    assert caught.value.retry_after_seconds == 1
    assert rig.source.opened == ["a.png", "b.png"]  # opened for its size, never read

    processor.gate.set()
    await holding
    # The finished render gave its bytes back: the other source fits now.
    rendition = await render(rig, "w64", "b.png.webp")
    assert rendition.source is RenditionSource.PROCESSED


async def test_the_byte_budget_is_given_back_when_a_render_fails() -> None:
    limits = ImageLimits(source_bytes_in_flight=len(SOURCE), budget_wait_seconds=0.01)
    rig = make_rig(processor=RefusingProcessor(), limits=limits)
    await rig.source.put_bytes("a.png", SOURCE, content_type="image/png")
    for opts in ("w10", "w11", "w12"):
        with pytest.raises(UnprocessableImage):
            await render(rig, opts, "a.png.webp")


async def test_a_refusal_is_remembered_while_the_source_is_unchanged_then_expires() -> None:
    clock = [1000.0]
    processor = RefusingProcessor()
    rig = make_rig(processor=processor, now=lambda: clock[0])
    source = CountingStore()
    rig.service._source = source
    await source.put_bytes(SOURCE_KEY, SOURCE, content_type="image/png")
    remainder = SOURCE_KEY + ".webp"

    for _ in range(3):
        with pytest.raises(UnprocessableImage, match=r"^image exceeds the pixel limit$"):
            await render(rig, "w64", remainder)
    assert processor.calls == 1
    assert source.opened == [SOURCE_KEY]  # read once; the repeats only stat it
    assert source.stats == [SOURCE_KEY, SOURCE_KEY]

    clock[0] += ImageLimits().refusal_memory_seconds + 1
    with pytest.raises(UnprocessableImage):
        await render(rig, "w64", remainder)
    assert processor.calls == 2


async def test_a_remembered_refusal_is_forgotten_when_the_source_changes() -> None:
    processor = RefusingProcessor()
    rig = make_rig(processor=processor)
    await rig.source.put_bytes(SOURCE_KEY, SOURCE, content_type="image/png")
    remainder = SOURCE_KEY + ".webp"
    with pytest.raises(UnprocessableImage):
        await render(rig, "w64", remainder)
    await rig.source.put_bytes(SOURCE_KEY, SOURCE + b"replaced", content_type="image/png")
    with pytest.raises(UnprocessableImage):
        await render(rig, "w64", remainder)
    assert processor.calls == 2


# --- documents (the imgproxy info endpoint's JSON) ---------------------------------------------

DOCUMENT_KEY = "d" * 64
MEDIA_HASH = "a" * 64
HASHED_SOURCE = f"uploads/aa/{MEDIA_HASH}/photo.png"


async def test_a_document_is_made_once_then_answered_from_memory_and_storage() -> None:
    rig = await rig_with_source(HASHED_SOURCE)
    made: list[int] = []

    async def make(source: bytearray) -> bytes:
        made.append(len(source))
        return b'{"bytes":%d}' % len(source)

    first = await rig.service.document(DOCUMENT_KEY, HASHED_SOURCE, make)
    again = await rig.service.document(DOCUMENT_KEY, HASHED_SOURCE, make)

    assert (first.source, again.source) == (RenditionSource.PROCESSED, RenditionSource.MEMORY)
    assert (
        (again.data, again.etag)
        == (first.data, first.etag)
        == (b'{"bytes":%d}' % len(SOURCE), etag_of(first.data))
    )
    assert rig.source.opened == [HASHED_SOURCE]
    await rig.write_behind.drain()
    storage_key = f"cache/{DOCUMENT_KEY}.json"
    assert rig.index.recorded == [CacheEntry(MEDIA_HASH, DOCUMENT_KEY, storage_key)]
    assert await rig.media.read_bytes(storage_key, max_bytes=1 << 10) == first.data
    # Out of memory: the storage copy answers, still without the source.
    assert rig.cache.discard(DOCUMENT_KEY)
    stored = await rig.service.document(DOCUMENT_KEY, HASHED_SOURCE, make)
    assert (stored.source, stored.etag) == (RenditionSource.STORAGE, first.etag)
    assert made == [len(SOURCE)]
    assert rig.source.opened == [HASHED_SOURCE]


async def test_concurrent_identical_document_requests_share_one_make() -> None:
    rig = await rig_with_source()
    entered, gate = asyncio.Event(), asyncio.Event()
    made = 0

    async def make(source: bytearray) -> bytes:
        nonlocal made
        made += 1
        entered.set()
        await gate.wait()
        return b"{}"

    async def open_gate_once_making() -> None:
        await entered.wait()
        gate.set()

    documents, _ = await asyncio.gather(
        asyncio.gather(*(rig.service.document(DOCUMENT_KEY, SOURCE_KEY, make) for _ in range(10))),
        open_gate_once_making(),
    )

    assert made == 1
    assert {d.data for d in documents} == {b"{}"}
    assert len(documents) == 10


@pytest.mark.parametrize(
    ("actual", "message"),
    [
        pytest.param(b"12345", "source object was cut short while it was read", id="shorter"),
        pytest.param(b"1234567890", "source object grew while it was read", id="longer"),
    ],
)
async def test_a_source_that_changes_size_while_read_is_unavailable(
    actual: bytes, message: str
) -> None:
    # The size ``open`` reported is not the size of the bytes read: the object changed.
    reader = MemoryObjectReader(ObjectInfo(key="a.jpg", size=8), actual)

    with pytest.raises(StorageUnavailable, match=message):
        await image_service.read_into_buffer(reader, 8)


async def test_a_source_is_read_whole_into_one_buffer() -> None:
    data = bytes(range(256)) * 5000
    reader = MemoryObjectReader(ObjectInfo(key="a.jpg", size=len(data)), data)

    buffer = await image_service.read_into_buffer(reader, len(data))

    assert isinstance(buffer, bytearray)
    assert buffer == data


async def test_a_rendered_source_is_freed_at_once_not_by_the_garbage_collector() -> None:
    # Sources are megabytes: one kept alive by a reference cycle until the next full
    # collection is memory a busy server piles up (hundreds of MiB under load).
    rig = await rig_with_source()
    gc.collect()
    gc.disable()
    try:
        for width in (200, 201, 202):
            await render(rig, f"w{width}", SOURCE_KEY + ".webp")
        left = [obj for obj in gc.get_objects() if isinstance(obj, image_service._SharedSource)]
    finally:
        gc.enable()
    assert left == []
