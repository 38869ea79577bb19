"""ImageCacheIndex contract: cached /img renditions indexed by media hash."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.databases import StoreFactory, store_factories
from vylux_adapters.memory import ManualClock, MemoryImageCacheIndex
from vylux_adapters.sql import SqlImageCacheIndex
from vylux_core.ports.image_cache_index import CacheEntry, ImageCacheIndex

IMAGE_CACHE_INDEX_FACTORIES = store_factories(
    lambda clock: MemoryImageCacheIndex(),
    lambda engine, clock: SqlImageCacheIndex(engine=engine, clock=clock),
)


@pytest.fixture(params=IMAGE_CACHE_INDEX_FACTORIES)
async def index(
    request: pytest.FixtureRequest, clock: ManualClock
) -> AsyncIterator[ImageCacheIndex]:
    factory: StoreFactory[ImageCacheIndex] = request.param
    async with factory(clock, request) as adapter:
        yield adapter


def entry(media_hash: str, name: str, cache_key: str | None = None) -> CacheEntry:
    return CacheEntry(
        media_hash,
        cache_key or f"{media_hash}/{name}?w=320",
        f"cache/{media_hash}-{name}.webp",
    )


async def test_list_of_unknown_hash_is_empty(index: ImageCacheIndex) -> None:
    assert await index.list_by_hash("hash-a") == []


async def test_record_then_list_returns_every_entry_of_the_hash(index: ImageCacheIndex) -> None:
    entries = [entry("hash-a", "one"), entry("hash-a", "two"), entry("hash-a", "three")]
    for item in entries:
        await index.record(item)
    await index.record(entry("hash-b", "one"))

    listed = await index.list_by_hash("hash-a")

    assert sorted(listed, key=lambda e: e.storage_key) == sorted(
        entries, key=lambda e: e.storage_key
    )


@pytest.mark.parametrize(
    ("second", "want_cache_key"),
    [
        pytest.param(entry("hash-a", "one"), "hash-a/one?w=320", id="same-entry-idempotent"),
        pytest.param(entry("hash-a", "one", "hash-a/one?w=640"), "hash-a/one?w=640", id="refresh"),
    ],
)
async def test_record_upserts_on_hash_and_storage_key(
    index: ImageCacheIndex, second: CacheEntry, want_cache_key: str
) -> None:
    await index.record(entry("hash-a", "one"))

    await index.record(second)

    assert await index.list_by_hash("hash-a") == [
        CacheEntry("hash-a", want_cache_key, "cache/hash-a-one.webp")
    ]


async def test_one_storage_key_under_two_hashes_is_two_entries(index: ImageCacheIndex) -> None:
    shared = "cache/shared.webp"
    await index.record(CacheEntry("hash-a", "a?w=1", shared))
    await index.record(CacheEntry("hash-b", "b?w=1", shared))

    assert await index.list_by_hash("hash-a") == [CacheEntry("hash-a", "a?w=1", shared)]
    assert await index.list_by_hash("hash-b") == [CacheEntry("hash-b", "b?w=1", shared)]


async def test_delete_by_hash_counts_and_leaves_other_hashes(index: ImageCacheIndex) -> None:
    for name in ("one", "two"):
        await index.record(entry("hash-a", name))
    await index.record(entry("hash-b", "one"))

    assert await index.delete_by_hash("hash-a") == 2
    assert await index.delete_by_hash("hash-a") == 0
    assert await index.list_by_hash("hash-a") == []
    assert await index.list_by_hash("hash-b") == [entry("hash-b", "one")]
