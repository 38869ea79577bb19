"""LocalDirObjectStore beyond the port: keys never leave the root, the on-disk layout."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from vylux_adapters.local import LocalDirObjectStore
from vylux_core.errors import InvalidStorageKey, StorageUnavailable
from vylux_core.ports.object_store import ObjectInfo


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "media"
    path.mkdir()
    return path


@pytest.fixture
def store(root: Path) -> LocalDirObjectStore:
    return LocalDirObjectStore(root=root)


def tree(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


ESCAPING_KEYS = [
    pytest.param("../outside", id="parent"),
    pytest.param("a/../../outside", id="parent-inside"),
    pytest.param("..", id="dot-dot"),
    pytest.param(".", id="dot"),
    pytest.param("a/./b", id="dot-segment"),
    pytest.param("/etc/passwd", id="absolute"),
    pytest.param("//outside", id="double-slash-absolute"),
    pytest.param("a//b", id="empty-segment"),
    pytest.param("trailing/", id="trailing-slash"),
    pytest.param("..\\outside", id="backslash"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("", id="empty"),
    pytest.param("bad-\udc80-surrogate", id="not-unicode"),
    pytest.param("s" * 240, id="segment-too-long"),
    pytest.param("/".join(["d" * 100] * 11), id="key-over-1024-bytes"),
]

Use = Callable[[LocalDirObjectStore, str], Awaitable[object]]
USES = [
    pytest.param(lambda s, k: s.put_bytes(k, b"x", content_type="text/plain"), id="put_bytes"),
    pytest.param(lambda s, k: s.stat(k), id="stat"),
    pytest.param(lambda s, k: s.exists(k), id="exists"),
    pytest.param(lambda s, k: s.open(k), id="open"),
    pytest.param(lambda s, k: s.delete_many([k]), id="delete_many"),
]


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize("key", ESCAPING_KEYS)
async def test_keys_that_could_leave_the_root_are_refused(
    store: LocalDirObjectStore, tmp_path: Path, key: str, use: Use
) -> None:
    with pytest.raises(InvalidStorageKey):
        await use(store, key)

    assert tree(tmp_path) == ["media"]


@pytest.mark.parametrize("prefix", ["../", "/", "a//", "./", "..\\"])
async def test_listing_an_impossible_prefix_finds_nothing(
    store: LocalDirObjectStore, prefix: str
) -> None:
    await store.put_bytes("a/b", b"x", content_type="text/plain")

    assert [key async for key in store.list(prefix)] == []


async def test_the_layout_keeps_exact_bytes_and_a_json_sidecar(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes(
        "videos/ab/h/master.m3u8", b"#EXTM3U\n", content_type="audio/mpegurl", cache_control="x"
    )
    await store.put_bytes("videos/ab/h", b"obj", content_type="text/plain")
    await store.put_bytes("odd/100%~tilde", b"odd", content_type="text/plain")

    assert tree(root) == [
        "odd",
        "odd/100%25%7Etilde~data",
        "odd/100%25%7Etilde~meta",
        "videos",
        "videos/ab",
        "videos/ab/h",
        "videos/ab/h/master.m3u8~data",
        "videos/ab/h/master.m3u8~meta",
        "videos/ab/h~data",
        "videos/ab/h~meta",
    ]
    assert (root / "videos/ab/h/master.m3u8~data").read_bytes() == b"#EXTM3U\n"
    assert json.loads((root / "videos/ab/h/master.m3u8~meta").read_text()) == {
        "content_type": "audio/mpegurl",
        "cache_control": "x",
    }


async def test_sidecars_temp_files_and_foreign_files_are_never_listed(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("d/kept", b"x", content_type="text/plain")
    (root / "d" / "kept~tmp-abc123").write_bytes(b"a write that crashed")
    (root / "d" / "orphan~meta").write_text("{}")
    (root / "d" / "README").write_text("not an object")
    (root / "d" / "odd~dir").mkdir()
    (root / "d" / "not%41encoded").mkdir()
    (root / "d" / "not%41encoded" / "x~data").write_bytes(b"unreachable")

    assert [key async for key in store.list("")] == ["d/kept"]


async def test_delete_removes_sidecars_and_empty_directories(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("a/b/c/one", b"1", content_type="text/plain")
    await store.put_bytes("a/two", b"2", content_type="text/plain")

    await store.delete_many(["a/b/c/one"])
    assert tree(root) == ["a", "a/two~data", "a/two~meta"]
    assert await store.delete_prefix("a/") == 1
    assert tree(root.parent) == ["media"]  # the root itself stays


async def test_a_reader_keeps_the_version_it_opened(store: LocalDirObjectStore) -> None:
    await store.put_bytes("k", b"old version", content_type="text/plain")
    reader = await store.open("k")

    await store.put_bytes("k", b"new", content_type="image/png")

    assert b"".join([chunk async for chunk in reader.chunks()]) == b"old version"
    await reader.aclose()
    assert await store.read_bytes("k", max_bytes=100) == b"new"


async def test_a_lost_sidecar_only_loses_the_content_type(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("k", b"data", content_type="text/plain")
    (root / "k~meta").unlink()

    assert await store.stat("k") == ObjectInfo(key="k", size=4, content_type=None)


async def test_a_missing_root_is_an_outage_and_is_not_created(tmp_path: Path) -> None:
    root = tmp_path / "unmounted"
    store = LocalDirObjectStore(root=root)

    uses: list[Callable[[], Awaitable[object]]] = [
        store.ping,
        lambda: store.put_bytes("a/b", b"x", content_type="text/plain"),
        lambda: store.stat("a/b"),
        lambda: store.exists("a/b"),
        lambda: store.open("a/b"),
        lambda: _listed(store, "a/"),
        lambda: store.delete_many(["a/b"]),
    ]
    for use in uses:
        with pytest.raises(StorageUnavailable):  # an unmounted volume is not "not found"
            await use()
    assert not root.exists()


async def _listed(store: LocalDirObjectStore, prefix: str) -> list[str]:
    return [key async for key in store.list(prefix)]


async def test_a_root_that_is_a_file_fails_ping(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_text("not a directory")

    with pytest.raises(StorageUnavailable):
        await LocalDirObjectStore(root=root).ping()


async def test_ping_leaves_nothing_behind(store: LocalDirObjectStore, root: Path) -> None:
    await store.ping()

    assert tree(root) == []


async def test_upload_from_a_missing_source_leaves_no_temp_file(
    store: LocalDirObjectStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await store.upload_file("k", tmp_path / "nope", content_type="text/plain")

    assert tree(root) == []
