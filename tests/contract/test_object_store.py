"""ObjectStore contract: a bucket of opaque keys, streamed and ranged reads."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from tests.support.objects import object_exists
from vylux_adapters.local import LocalDirObjectStore
from vylux_adapters.memory import ManualClock, MemoryObjectStore
from vylux_adapters.s3 import S3Clients, S3ObjectStore
from vylux_core.errors import InvalidInput, InvalidStorageKey, ObjectNotFound, SourceTooLarge
from vylux_core.ports.object_store import ByteRange, ObjectInfo, ObjectStore

ObjectStoreFactory = Callable[
    [ManualClock, pytest.FixtureRequest], AbstractAsyncContextManager[ObjectStore]
]


@asynccontextmanager
async def memory_object_store(
    _clock: ManualClock, _request: pytest.FixtureRequest
) -> AsyncIterator[ObjectStore]:
    yield MemoryObjectStore()


@asynccontextmanager
async def local_object_store(
    _clock: ManualClock, request: pytest.FixtureRequest
) -> AsyncIterator[ObjectStore]:
    directory: Path = request.getfixturevalue("tmp_path")
    root = directory / "objects"
    root.mkdir()
    yield LocalDirObjectStore(root=root)


@asynccontextmanager
async def s3_object_store(
    _clock: ManualClock, request: pytest.FixtureRequest
) -> AsyncIterator[ObjectStore]:
    # The session's clients serve every bucket; the store does not own them.
    clients: S3Clients = request.getfixturevalue("s3_clients")
    bucket: str = request.getfixturevalue("s3_bucket")
    yield S3ObjectStore(clients=clients, bucket=bucket, max_concurrency=8)


OBJECT_STORE_FACTORIES = [
    pytest.param(memory_object_store, id="memory"),
    pytest.param(local_object_store, id="local"),
    pytest.param(s3_object_store, id="s3", marks=pytest.mark.s3),
]


@pytest.fixture(params=OBJECT_STORE_FACTORIES)
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[ObjectStore]:
    factory: ObjectStoreFactory = request.param
    async with factory(clock, request) as adapter:
        yield adapter


DATA = b"0123456789abcdef"  # 16 bytes: offsets are easy to read in the range table


async def read_all(
    store: ObjectStore, key: str, byte_range: ByteRange | None = None
) -> tuple[ObjectInfo, list[bytes]]:
    reader = await store.open(key, byte_range)
    try:
        return reader.info, [chunk async for chunk in reader.chunks()]
    finally:
        await reader.aclose()


# --- write and read back ---------------------------------------------------------------------


async def test_put_bytes_then_stat_exists_and_read(store: ObjectStore) -> None:
    await store.put_bytes("a/b.bin", DATA, content_type="application/octet-stream")

    assert await object_exists(store, "a/b.bin")
    assert await store.stat("a/b.bin") == ObjectInfo(
        key="a/b.bin", size=16, content_type="application/octet-stream"
    )
    assert await store.read_bytes("a/b.bin", max_bytes=16) == DATA


async def test_put_bytes_replaces_the_object(store: ObjectStore) -> None:
    await store.put_bytes("k.txt", b"old contents", content_type="text/plain")

    await store.put_bytes("k.txt", b"new", content_type="image/png", cache_control="no-cache")

    assert await store.stat("k.txt") == ObjectInfo(key="k.txt", size=3, content_type="image/png")
    assert await store.read_bytes("k.txt", max_bytes=100) == b"new"


async def test_empty_object_round_trips(store: ObjectStore) -> None:
    await store.put_bytes("empty", b"", content_type="text/plain")

    info, chunks = await read_all(store, "empty")

    assert info.size == 0
    assert b"".join(chunks) == b""
    assert await store.read_bytes("empty", max_bytes=0) == b""


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("image/jpeg", id="jpeg"),
        pytest.param("image/webp", id="webp"),
        pytest.param("video/mp4", id="mp4"),
        pytest.param("application/vnd.apple.mpegurl", id="hls-playlist"),
        pytest.param("text/plain; charset=utf-8", id="with-parameter"),
    ],
)
async def test_content_type_round_trips(store: ObjectStore, content_type: str) -> None:
    await store.put_bytes("typed", b"x", content_type=content_type)

    info, _ = await read_all(store, "typed")

    assert (await store.stat("typed")).content_type == content_type
    assert info.content_type == content_type


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("with space/file name.txt", id="spaces"),
        pytest.param("percent/100%.txt", id="percent"),
        pytest.param("percent/%2F%20literal", id="percent-escapes-are-literal"),
        pytest.param("unicode/日本語/ファイル.bin", id="unicode"),
        pytest.param("emoji/😀.bin", id="emoji"),
        pytest.param("deep/a/b/c/d/e.bin", id="slashes"),
        pytest.param("plus+and=equals&amp;.bin", id="query-characters"),
        pytest.param("tilde/~x~data", id="tildes"),
        pytest.param("dots/a..b/.hidden/c.", id="dots-inside-segments"),
        pytest.param('quotes/it\'s "quoted" (1) [2] {3} #4 @5 !6 *7 ,8 ;9 :10', id="punctuation"),
    ],
)
async def test_unusual_keys_round_trip(store: ObjectStore, key: str) -> None:
    await store.put_bytes(key, DATA, content_type="text/plain")

    assert await object_exists(store, key)
    assert (await store.stat(key)).key == key
    assert await store.read_bytes(key, max_bytes=100) == DATA
    assert [listed async for listed in store.list(key.split("/")[0])] == [key]
    await store.delete_many([key])
    assert not await object_exists(store, key)


async def test_empty_key_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidStorageKey):
        await store.put_bytes("", b"x", content_type="text/plain")


async def test_a_key_prefix_is_not_an_object(store: ObjectStore) -> None:
    await store.put_bytes("parent/child.txt", DATA, content_type="text/plain")

    assert not await object_exists(store, "parent")
    with pytest.raises(ObjectNotFound):
        await store.stat("parent")
    with pytest.raises(ObjectNotFound):
        await store.open("parent")


# --- streaming and ranges --------------------------------------------------------------------


async def test_open_streams_the_whole_object(store: ObjectStore) -> None:
    await store.put_bytes("obj", DATA, content_type="text/plain")

    reader = await store.open("obj")
    info = reader.info
    body = b"".join([chunk async for chunk in reader.chunks()])
    await reader.aclose()
    await reader.aclose()  # safe twice

    assert info == ObjectInfo(key="obj", size=16, content_type="text/plain")
    assert body == DATA


@pytest.mark.parametrize(
    ("byte_range", "want"),
    [
        pytest.param(ByteRange(0), DATA, id="start-zero"),
        pytest.param(ByteRange(10), b"abcdef", id="start-only"),
        pytest.param(ByteRange(2, 5), b"2345", id="start-end-inclusive"),
        pytest.param(ByteRange(7, 7), b"7", id="one-byte"),
        pytest.param(ByteRange(15), b"f", id="last-byte"),
        pytest.param(ByteRange(12, 15), b"cdef", id="end-at-last-byte"),
        pytest.param(ByteRange(12, 999), b"cdef", id="end-past-size-clipped"),
    ],
)
async def test_ranged_open(store: ObjectStore, byte_range: ByteRange, want: bytes) -> None:
    await store.put_bytes("obj", DATA, content_type="text/plain")

    info, chunks = await read_all(store, "obj", byte_range)

    assert info == ObjectInfo(key="obj", size=16, content_type="text/plain")  # the whole object
    assert b"".join(chunks) == want


@pytest.mark.parametrize(
    "byte_range",
    [
        pytest.param(ByteRange(16), id="start-at-size"),
        pytest.param(ByteRange(17, 20), id="start-past-size"),
        pytest.param(ByteRange(1000), id="start-far-past"),
    ],
)
async def test_range_starting_past_the_end_is_invalid(
    store: ObjectStore, byte_range: ByteRange
) -> None:
    await store.put_bytes("obj", DATA, content_type="text/plain")

    with pytest.raises(InvalidInput):
        await store.open("obj", byte_range)


async def test_two_megabyte_object_streams_in_bounded_chunks_and_ranges(
    store: ObjectStore,
) -> None:
    data = random.Random(7).randbytes(2 * 1024 * 1024)
    await store.put_bytes("big.bin", data, content_type="application/octet-stream")

    _, chunks = await read_all(store, "big.bin")
    _, middle = await read_all(store, "big.bin", ByteRange(1_000_003, 1_700_004))
    _, tail = await read_all(store, "big.bin", ByteRange(len(data) - 70_000))

    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert all(chunks)
    assert b"".join(middle) == data[1_000_003:1_700_005]
    assert b"".join(tail) == data[-70_000:]


async def read_into(
    store: ObjectStore, key: str, sizes: list[int], byte_range: ByteRange | None = None
) -> list[bytes]:
    """``readinto`` calls with buffers of ``sizes``: what each call wrote."""
    reader = await store.open(key, byte_range)
    try:
        written = []
        for size in sizes:
            buffer = bytearray(size)
            count = await reader.readinto(memoryview(buffer))
            written.append(bytes(buffer[:count]))
        return written
    finally:
        await reader.aclose()


async def test_readinto_fills_the_buffer_with_the_whole_object_then_reports_the_end(
    store: ObjectStore,
) -> None:
    data = random.Random(8).randbytes(3 * 1024 * 1024 + 5)  # several chunks of every adapter
    await store.put_bytes("big.bin", data, content_type="application/octet-stream")

    whole, end = await read_into(store, "big.bin", [len(data), 1])

    assert whole == data
    assert end == b""


@pytest.mark.parametrize(
    ("byte_range", "sizes", "want"),
    [
        pytest.param(None, [5, 5, 100], [b"01234", b"56789", b"abcdef"], id="short-at-the-end"),
        pytest.param(ByteRange(2, 5), [3, 3, 3], [b"234", b"5", b""], id="range"),
        pytest.param(ByteRange(10), [16], [b"abcdef"], id="range-to-the-end"),
    ],
)
async def test_readinto_continues_where_the_last_read_stopped(
    store: ObjectStore, byte_range: ByteRange | None, sizes: list[int], want: list[bytes]
) -> None:
    await store.put_bytes("obj", DATA, content_type="text/plain")

    assert await read_into(store, "obj", sizes, byte_range) == want


async def test_a_stream_abandoned_half_way_releases_cleanly(store: ObjectStore) -> None:
    data = random.Random(11).randbytes(3 * 1024 * 1024)
    await store.put_bytes("big.bin", data, content_type="application/octet-stream")

    for _ in range(3):  # a leaked connection or file handle would show up as a hang
        reader = await store.open("big.bin")
        first = await anext(aiter(reader.chunks()))
        await reader.aclose()
        await reader.aclose()
        unread = await store.open("big.bin", ByteRange(5))
        await unread.aclose()

    assert data.startswith(first)
    assert await store.read_bytes("big.bin", max_bytes=len(data)) == data


async def test_many_concurrent_streams_interleave(store: ObjectStore) -> None:
    blobs = {f"par/{n:02d}": random.Random(n).randbytes(300_000 + n) for n in range(20)}
    await asyncio.gather(
        *(store.put_bytes(key, blob, content_type="video/mp4") for key, blob in blobs.items())
    )

    readers = [await store.open(key) for key in blobs]  # all open at once
    try:
        bodies = await asyncio.gather(*(_join(reader.chunks()) for reader in reversed(readers)))
    finally:
        for reader in readers:
            await reader.aclose()

    assert list(reversed(bodies)) == list(blobs.values())


async def _join(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_open_missing_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.open("missing")
    with pytest.raises(ObjectNotFound):
        await store.open("missing", ByteRange(0, 10))


# --- whole reads, files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_bytes", "fits"),
    [
        pytest.param(1000, True, id="well-under"),
        pytest.param(16, True, id="exactly-max"),
        pytest.param(15, False, id="one-byte-over"),
        pytest.param(0, False, id="zero-max"),
    ],
)
async def test_read_bytes_checks_max_bytes(store: ObjectStore, max_bytes: int, fits: bool) -> None:
    await store.put_bytes("obj", DATA, content_type="text/plain")

    if fits:
        assert await store.read_bytes("obj", max_bytes=max_bytes) == DATA
    else:
        with pytest.raises(SourceTooLarge):
            await store.read_bytes("obj", max_bytes=max_bytes)


async def test_download_writes_a_new_file(store: ObjectStore, tmp_path: Path) -> None:
    await store.put_bytes("videos/in.mp4", DATA * 100, content_type="video/mp4")
    destination = tmp_path / "in.mp4"

    size = await store.download("videos/in.mp4", destination)

    assert size == 1600
    assert destination.read_bytes() == DATA * 100


async def test_upload_file_creates_the_object(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "segment.m4s"
    source.write_bytes(DATA * 3)

    await store.upload_file("videos/ab/seg 1.m4s", source, content_type="video/iso.segment")

    assert await store.stat("videos/ab/seg 1.m4s") == ObjectInfo(
        key="videos/ab/seg 1.m4s", size=48, content_type="video/iso.segment"
    )
    assert await store.read_bytes("videos/ab/seg 1.m4s", max_bytes=48) == DATA * 3


async def test_download_overwrites_a_file_made_for_it(store: ObjectStore, tmp_path: Path) -> None:
    # Workflows download into a temp file they created first (mkstemp).
    await store.put_bytes("videos/in.mp4", DATA, content_type="video/mp4")
    destination = tmp_path / "vylux-transcode-123"
    destination.write_bytes(b"stale bytes that are longer than the object")

    assert await store.download("videos/in.mp4", destination) == 16
    assert destination.read_bytes() == DATA


@pytest.mark.slow
async def test_twenty_megabyte_upload_is_multipart_and_reads_back_in_ranges(
    store: ObjectStore, tmp_path: Path
) -> None:
    source = tmp_path / "film.mp4"
    rng = random.Random(20)
    with source.open("wb") as out:  # on disk in chunks, like a real encode output
        for _ in range(20):
            out.write(rng.randbytes(1024 * 1024))
    size = source.stat().st_size
    part = 8 * 1024 * 1024  # the S3 adapter's default part size: ranges cross its seams
    ranges = [
        ByteRange(0, 99),
        ByteRange(part - 10, part + 9),
        ByteRange(2 * part - 1, 2 * part),
        ByteRange(size - 5),
        ByteRange(size - 1, size + 100),
        ByteRange(3 * 1024 * 1024, 12 * 1024 * 1024 - 1),
    ]

    await store.upload_file("videos/ab/film.mp4", source, content_type="video/mp4")

    assert await store.stat("videos/ab/film.mp4") == ObjectInfo(
        key="videos/ab/film.mp4", size=size, content_type="video/mp4"
    )
    with source.open("rb") as original:
        for byte_range in ranges:
            info, chunks = await read_all(store, "videos/ab/film.mp4", byte_range)
            original.seek(byte_range.start)
            end = size - 1 if byte_range.end is None else min(byte_range.end, size - 1)
            assert info.size == size
            assert b"".join(chunks) == original.read(end - byte_range.start + 1), byte_range
    copy = tmp_path / "copy.mp4"
    assert await store.download("videos/ab/film.mp4", copy) == size
    assert copy.read_bytes() == source.read_bytes()


async def test_upload_file_replaces_the_object(store: ObjectStore, tmp_path: Path) -> None:
    await store.put_bytes("obj", b"old", content_type="text/plain")
    source = tmp_path / "new.json"
    source.write_bytes(b"{}")

    await store.upload_file("obj", source, content_type="application/json")

    assert await store.stat("obj") == ObjectInfo(key="obj", size=2, content_type="application/json")


async def test_missing_object_raises_object_not_found(store: ObjectStore, tmp_path: Path) -> None:
    destination = tmp_path / "never.bin"

    assert not await object_exists(store, "missing")
    with pytest.raises(ObjectNotFound):
        await store.stat("missing")
    with pytest.raises(ObjectNotFound):
        await store.read_bytes("missing", max_bytes=100)
    with pytest.raises(ObjectNotFound):
        await store.download("missing", destination)
    assert not destination.exists()  # no partial file left behind


# --- listing and deleting --------------------------------------------------------------------


async def test_list_by_prefix_is_ascending_and_paginates(store: ObjectStore) -> None:
    keys = [f"many/{n:04d}" for n in range(1005)]
    shuffled = random.Random(3).sample(keys, len(keys))
    await asyncio.gather(
        *(store.put_bytes(key, b"x", content_type="text/plain") for key in shuffled)
    )
    await store.put_bytes("many.txt", b"x", content_type="text/plain")
    await store.put_bytes("manz/0000", b"x", content_type="text/plain")
    await store.put_bytes("a/0000", b"x", content_type="text/plain")

    listed = [key async for key in store.list("many/")]
    deleted = await store.delete_prefix("many/")

    assert listed == keys
    assert deleted == len(keys)
    assert [key async for key in store.list("man")] == ["many.txt", "manz/0000"]


async def test_list_orders_by_code_point(store: ObjectStore) -> None:
    # Code-point order is UTF-8 byte order, which is S3's listing order.
    names = ["b", "a", "A", "ä", "z", "日本", "😀", "Z9", "a0", "ｚ"]
    for name in names:
        await store.put_bytes(f"order/{name}", b"x", content_type="text/plain")

    assert [key async for key in store.list("order/")] == sorted(f"order/{n}" for n in names)


@pytest.mark.parametrize(
    ("prefix", "want"),
    [
        pytest.param("dir/a", ["dir/a/x", "dir/a0", "dir/ab"], id="plain-string-prefix"),
        pytest.param("dir/a/", ["dir/a/x"], id="slash-prefix"),
        pytest.param("dir/", ["dir/a/x", "dir/a0", "dir/ab", "dir/b"], id="directory"),
        pytest.param("", ["dir/a/x", "dir/a0", "dir/ab", "dir/b", "other"], id="everything"),
        pytest.param("nothing/", [], id="no-match"),
    ],
)
async def test_list_matches_string_prefixes(
    store: ObjectStore, prefix: str, want: list[str]
) -> None:
    # "dir/a/x" < "dir/a0" < "dir/ab": a plain string prefix spans a directory and its
    # siblings. (A sibling sorting before "/", such as "dir/a-", is listed out of byte
    # order by SeaweedFS, which walks directories depth first.)
    for key in ("dir/b", "dir/a/x", "other", "dir/ab", "dir/a0"):
        await store.put_bytes(key, b"x", content_type="text/plain")

    assert [key async for key in store.list(prefix)] == want


async def test_delete_many_ignores_missing_keys(store: ObjectStore) -> None:
    for key in ("d/1", "d/2", "d/3"):
        await store.put_bytes(key, b"x", content_type="text/plain")

    await store.delete_many(["d/1", "d/missing", "d/3"])
    await store.delete_many(["d/1", "d/3"])
    await store.delete_many([])

    assert [key async for key in store.list("d/")] == ["d/2"]


async def test_delete_prefix_counts_and_keeps_other_keys(store: ObjectStore) -> None:
    for key in ("videos/ab/h1/a", "videos/ab/h1/b/c", "videos/ab/h10/a", "videos/ab/h2/a"):
        await store.put_bytes(key, b"x", content_type="text/plain")

    assert await store.delete_prefix("videos/ab/h1/") == 2
    assert await store.delete_prefix("videos/ab/h1/") == 0
    assert [key async for key in store.list("videos/")] == ["videos/ab/h10/a", "videos/ab/h2/a"]


async def test_delete_prefix_refuses_an_empty_prefix(store: ObjectStore) -> None:
    await store.put_bytes("keep", b"x", content_type="text/plain")

    with pytest.raises(InvalidStorageKey):
        await store.delete_prefix("")
    assert await object_exists(store, "keep")


async def test_delete_prefix_is_a_string_prefix(store: ObjectStore) -> None:
    for key in ("cache/ab", "cache/abc.webp", "cache/abd/x", "cache/b"):
        await store.put_bytes(key, b"x", content_type="text/plain")

    assert await store.delete_prefix("cache/ab") == 3
    assert [key async for key in store.list("cache/")] == ["cache/b"]


async def test_ping_succeeds(store: ObjectStore) -> None:
    await store.ping()
