"""KeyStore contract: wrapped content keys, one per media hash."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.databases import StoreFactory, store_factories
from vylux_adapters.memory import ManualClock, MemoryKeyStore
from vylux_adapters.sql import SqlKeyStore
from vylux_core.ports.key_store import KeyStore, StoredKey
from vylux_core.security.key_ring import AadScheme, WrappedKey

KEY_STORE_FACTORIES = store_factories(
    lambda clock: MemoryKeyStore(clock=clock),
    lambda engine, clock: SqlKeyStore(engine=engine, clock=clock),
)


@pytest.fixture(params=KEY_STORE_FACTORIES)
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[KeyStore]:
    factory: StoreFactory[KeyStore] = request.param
    async with factory(clock, request) as adapter:
        yield adapter


def wrapped(
    media_hash: str,
    *,
    version: str = "v2",
    scheme: AadScheme = AadScheme.VERSION_AND_HASH,
    fill: int = 1,
) -> WrappedKey:
    # Opaque bytes of the real sizes, including 0x00 and high bytes a text column would mangle.
    return WrappedKey(
        media_hash=media_hash,
        wrapped_key=bytes([fill, 0x00, 0xFF]) + bytes(range(29)),
        nonce=bytes([0x00, fill]) + bytes(range(200, 210)),
        kek_version=version,
        aad_scheme=scheme,
    )


def stored_key(media_hash: str, key: WrappedKey | None = None) -> StoredKey:
    return StoredKey(
        media_hash=media_hash,
        wrapped=key or wrapped(media_hash),
        kid="0123456789abcdef0123456789abcdef",
        scheme="cbcs",
        key_uri=f"https://media.example.com/api/key/{media_hash}",
    )


def same_key(actual: StoredKey | None, expected: StoredKey) -> bool:
    """Equal in everything the caller supplied (``created_at`` is the store's)."""
    return actual is not None and (
        actual.media_hash,
        actual.wrapped,
        actual.kid,
        actual.scheme,
        actual.key_uri,
    ) == (expected.media_hash, expected.wrapped, expected.kid, expected.scheme, expected.key_uri)


async def test_get_missing_returns_none(store: KeyStore) -> None:
    assert await store.get("hash-a") is None


async def test_put_if_absent_stores_the_key(store: KeyStore) -> None:
    key = stored_key("hash-a")

    returned = await store.put_if_absent(key)

    assert same_key(returned, key)
    assert await store.get("hash-a") == returned
    assert await store.get("hash-b") is None


async def test_second_put_if_absent_reuses_the_first_key(
    store: KeyStore, clock: ManualClock
) -> None:
    first = await store.put_if_absent(stored_key("hash-a"))
    clock.advance(60)
    second = stored_key("hash-a", wrapped("hash-a", fill=9))

    returned = await store.put_if_absent(second)

    assert returned == first
    assert await store.get("hash-a") == first


@pytest.mark.parametrize(
    ("expected_old", "swapped"),
    [
        pytest.param(wrapped("hash-a", version="v1"), True, id="current-wrapping-swaps"),
        pytest.param(wrapped("hash-a", version="v1", fill=7), False, id="stale-bytes-refused"),
        pytest.param(
            wrapped("hash-a", version="v1", scheme=AadScheme.VERSION_ONLY),
            False,
            id="stale-scheme-refused",
        ),
        pytest.param(wrapped("hash-a", version="v0"), False, id="stale-version-refused"),
    ],
)
async def test_replace_wrapping_is_compare_and_set(
    store: KeyStore, expected_old: WrappedKey, swapped: bool
) -> None:
    original = stored_key("hash-a", wrapped("hash-a", version="v1"))
    await store.put_if_absent(original)
    new = wrapped("hash-a", version="v2", fill=5)

    result = await store.replace_wrapping("hash-a", expected_old, new)

    assert result is swapped
    stored = await store.get("hash-a")
    assert stored is not None
    assert stored.wrapped == (new if swapped else original.wrapped)
    assert (stored.kid, stored.scheme, stored.key_uri) == (
        original.kid,
        original.scheme,
        original.key_uri,
    )


async def test_replace_wrapping_of_missing_hash_returns_false(store: KeyStore) -> None:
    old = wrapped("hash-a", version="v1")

    assert not await store.replace_wrapping("hash-a", old, wrapped("hash-a"))
    assert await store.get("hash-a") is None


async def test_replace_wrapping_twice_with_one_old_value_swaps_once(store: KeyStore) -> None:
    old = wrapped("hash-a", version="v1")
    await store.put_if_absent(stored_key("hash-a", old))

    first = await store.replace_wrapping("hash-a", old, wrapped("hash-a", fill=2))
    second = await store.replace_wrapping("hash-a", old, wrapped("hash-a", fill=3))

    assert (first, second) == (True, False)
    stored = await store.get("hash-a")
    assert stored is not None
    assert stored.wrapped == wrapped("hash-a", fill=2)


# Current version v2: rows in v1, or in the legacy VERSION_ONLY scheme, need a rewrap.
REWRAP_ROWS = {
    "hash-1": wrapped("hash-1", version="v1"),
    "hash-2": wrapped("hash-2", version="v2"),  # current: not listed
    "hash-3": wrapped("hash-3", version="v1", scheme=AadScheme.VERSION_ONLY),
    "hash-4": wrapped("hash-4", version="v2", scheme=AadScheme.VERSION_ONLY),
    "hash-5": wrapped("hash-5", version="v2"),  # current: not listed
    "hash-6": wrapped("hash-6", version="v1"),
}


@pytest.mark.parametrize(
    ("after_hash", "limit", "want"),
    [
        pytest.param("", 10, ["hash-1", "hash-3", "hash-4", "hash-6"], id="all-ascending"),
        pytest.param("", 2, ["hash-1", "hash-3"], id="limit"),
        pytest.param("hash-3", 2, ["hash-4", "hash-6"], id="after-hash-is-exclusive"),
        pytest.param("hash-35", 10, ["hash-4", "hash-6"], id="after-hash-between-rows"),
        pytest.param("hash-6", 10, [], id="past-the-last"),
    ],
)
async def test_list_for_rewrap(
    store: KeyStore, after_hash: str, limit: int, want: list[str]
) -> None:
    for media_hash in ("hash-5", "hash-3", "hash-1", "hash-6", "hash-2", "hash-4"):
        await store.put_if_absent(stored_key(media_hash, REWRAP_ROWS[media_hash]))

    listed = await store.list_for_rewrap("v2", after_hash, limit)

    assert [key.media_hash for key in listed] == want
    assert all(key.wrapped == REWRAP_ROWS[key.media_hash] for key in listed)


async def test_list_for_rewrap_pages_through_every_stale_key(store: KeyStore) -> None:
    stale = [f"hash-{n:03d}" for n in range(7)]
    for media_hash in stale:
        await store.put_if_absent(stored_key(media_hash, wrapped(media_hash, version="v1")))
    await store.put_if_absent(stored_key("hash-current"))

    seen: list[str] = []
    after = ""
    while page := await store.list_for_rewrap("v2", after, 3):
        seen += [key.media_hash for key in page]
        after = page[-1].media_hash

    assert seen == stale


async def test_rewrapped_key_is_no_longer_listed(store: KeyStore) -> None:
    old = wrapped("hash-a", version="v1")
    await store.put_if_absent(stored_key("hash-a", old))

    await store.replace_wrapping("hash-a", old, wrapped("hash-a", version="v2"))

    assert await store.list_for_rewrap("v2", "", 10) == []


async def test_delete_returns_true_then_false(store: KeyStore) -> None:
    await store.put_if_absent(stored_key("hash-a"))
    await store.put_if_absent(stored_key("hash-b"))

    assert await store.delete("hash-a") is True
    assert await store.delete("hash-a") is False
    assert await store.get("hash-a") is None
    assert await store.get("hash-b") is not None


async def test_put_after_delete_stores_the_new_key(store: KeyStore) -> None:
    await store.put_if_absent(stored_key("hash-a"))
    await store.delete("hash-a")
    fresh = stored_key("hash-a", wrapped("hash-a", fill=4))

    returned = await store.put_if_absent(fresh)

    assert same_key(returned, fresh)
