"""ByteLRU: size-bounded, thread-safe LRU of bytes (U11)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest

from vylux_core.images.byte_lru import ByteLRU

Op = Callable[[ByteLRU], None]


def put(key: str, value: bytes) -> Op:
    return lambda cache: cache.put(key, value)


def get(key: str) -> Op:
    def op(cache: ByteLRU) -> None:
        cache.get(key)  # only for its promotion side effect

    return op


def discard(key: str) -> Op:
    def op(cache: ByteLRU) -> None:
        cache.discard(key)

    return op


@pytest.mark.parametrize(
    ("max_bytes", "ops", "want", "want_size"),
    [
        pytest.param(100, [], {"a": None}, 0, id="empty-miss"),
        pytest.param(100, [put("a", b"hello")], {"a": b"hello"}, 5, id="round-trip"),
        pytest.param(
            10,
            [put("a", b"123456"), put("b", b"abcdef")],
            {"a": None, "b": b"abcdef"},
            6,
            id="evicts-by-size",
        ),
        pytest.param(
            10,
            [put("a", b"1111"), put("b", b"2222"), get("a"), put("c", b"3333")],
            {"a": b"1111", "b": None, "c": b"3333"},
            8,
            id="promoted-survives-lru-evicted",
        ),
        pytest.param(
            10,
            [put("a", b"1"), put("b", b"2"), put("c", b"3"), put("d", b"123456789")],
            {"a": None, "b": None, "c": b"3", "d": b"123456789"},
            10,
            id="evicts-several-until-fit",
        ),
        pytest.param(
            100,
            [put("a", b"short"), put("a", b"much longer")],
            {"a": b"much longer"},
            11,
            id="replace-updates-size",
        ),
        pytest.param(
            10,
            [put("a", b"12345"), put("b", b"123"), put("a", b"1234567")],
            {"a": b"1234567", "b": b"123"},
            10,
            id="replace-does-not-evict-needlessly",
        ),
        pytest.param(0, [put("a", b"x"), put("e", b"")], {"a": None, "e": None}, 0, id="zero-off"),
        pytest.param(-1, [put("a", b"x")], {"a": None}, 0, id="negative-disables"),
        pytest.param(10, [put("a", b"x" * 11)], {"a": None}, 0, id="oversize-not-stored"),
        pytest.param(10, [put("a", b"x" * 10)], {"a": b"x" * 10}, 10, id="exact-budget-fits"),
        pytest.param(
            10,
            [put("a", b"keep"), put("b", b"old"), put("b", b"x" * 11)],
            {"a": b"keep", "b": None},
            4,
            id="oversize-replacement-drops-old-value",
        ),
        pytest.param(10, [put("e", b"")], {"e": b""}, 0, id="empty-value-stored"),
        pytest.param(
            100, [put("a", b"1"), discard("a"), discard("a")], {"a": None}, 0, id="discarded"
        ),
    ],
)
def test_semantics(
    max_bytes: int, ops: list[Op], want: dict[str, bytes | None], want_size: int
) -> None:
    cache = ByteLRU(max_bytes)
    for op in ops:
        op(cache)

    assert {key: cache.get(key) for key in want} == want
    assert cache.size_bytes == want_size
    assert len(cache) == sum(value is not None for value in want.values())
    assert cache.max_bytes == max_bytes


def test_replace_keeps_one_entry() -> None:
    cache = ByteLRU(100)
    cache.put("a", b"12")
    cache.put("a", b"12345")
    assert len(cache) == 1
    assert cache.size_bytes == 5


def test_discard_reports_presence() -> None:
    cache = ByteLRU(100)
    cache.put("a", b"123")
    assert cache.discard("a") is True
    assert cache.discard("a") is False
    assert (len(cache), cache.size_bytes) == (0, 0)


def test_repr_shows_counts_not_contents() -> None:
    cache = ByteLRU(10)
    cache.put("a", b"secret")
    assert repr(cache) == "ByteLRU(entries=1, size_bytes=6, max_bytes=10)"


def test_concurrent_access_keeps_invariants() -> None:
    budget = 1_000
    keys = [f"k{i}" for i in range(40)]
    cache = ByteLRU(budget)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)  # seeded per thread: the op mix is reproducible
        start.wait()
        try:
            for _ in range(1_000):
                key = rng.choice(keys)
                roll = rng.random()
                if roll < 0.5:
                    # Value length is derived from the key so readers can check integrity.
                    cache.put(key, key.encode() * rng.randint(1, 30))
                elif roll < 0.9:
                    value = cache.get(key)
                    assert value is None or value == key.encode() * (len(value) // len(key))
                else:
                    cache.discard(key)
                assert cache.size_bytes <= budget
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    stored = {key: value for key in keys if (value := cache.get(key)) is not None}
    assert cache.size_bytes == sum(len(value) for value in stored.values())
    assert cache.size_bytes <= budget
    assert len(cache) == len(stored)
