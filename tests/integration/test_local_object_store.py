"""LocalDirObjectStore beyond the port: keys never leave the root, the on-disk layout."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.support.objects import object_exists
from vylux_adapters.local import LocalDirObjectStore
from vylux_core.errors import InvalidStorageKey, ObjectNotFound, StorageUnavailable
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


async def listed(store: LocalDirObjectStore, prefix: str = "") -> list[str]:
    return [key async for key in store.list(prefix)]


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
    pytest.param("s" * 251, id="segment-too-long"),
    pytest.param("/".join(["d" * 100] * 11), id="key-over-1024-bytes"),
    pytest.param(".vylux-meta/k.json", id="metadata-tree"),
    pytest.param("a/.vylux-tmp-0123456789abcdef", id="temp-file"),
    pytest.param(".vylux", id="reserved-prefix"),
    pytest.param("a/.vyluxanything/b", id="reserved-directory"),
]

Use = Callable[[LocalDirObjectStore, str], Awaitable[object]]
USES = [
    pytest.param(lambda s, k: s.put_bytes(k, b"x", content_type="text/plain"), id="put_bytes"),
    pytest.param(lambda s, k: s.stat(k), id="stat"),
    pytest.param(lambda s, k: s.open(k), id="open"),
    pytest.param(lambda s, k: s.delete_many([k]), id="delete_many"),
]


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize("key", ESCAPING_KEYS)
async def test_keys_that_could_leave_the_root_or_are_reserved_are_refused(
    store: LocalDirObjectStore, tmp_path: Path, key: str, use: Use
) -> None:
    with pytest.raises(InvalidStorageKey):
        await use(store, key)

    assert tree(tmp_path) == ["media"]


async def test_the_longest_segment_round_trips(store: LocalDirObjectStore, root: Path) -> None:
    key = "d/" + "s" * 250  # 255 bytes with the sidecar's ".json"

    await store.put_bytes(key, b"x", content_type="text/plain")

    assert await store.stat(key) == ObjectInfo(key=key, size=1, content_type="text/plain")
    assert await listed(store) == [key]


@pytest.mark.parametrize("prefix", ["../", "/", "a//", "./", "..\\", ".vylux-meta/", ".vy"])
async def test_listing_an_impossible_prefix_finds_nothing(
    store: LocalDirObjectStore, prefix: str
) -> None:
    await store.put_bytes("a/b", b"x", content_type="text/plain")

    assert await listed(store, prefix) == []


async def test_objects_are_plain_files_with_sidecars_in_a_hidden_tree(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes(
        "videos/ab/h/master.m3u8", b"#EXTM3U\n", content_type="audio/mpegurl", cache_control="x"
    )
    await store.put_bytes("videos/ab/h.txt", b"obj", content_type="text/plain")
    await store.put_bytes("odd/100%~tilde", b"odd", content_type="text/plain")

    assert tree(root) == [
        ".vylux-meta",
        ".vylux-meta/odd",
        ".vylux-meta/odd/100%~tilde.json",
        ".vylux-meta/videos",
        ".vylux-meta/videos/ab",
        ".vylux-meta/videos/ab/h",
        ".vylux-meta/videos/ab/h.txt.json",
        ".vylux-meta/videos/ab/h/master.m3u8.json",
        "odd",
        "odd/100%~tilde",
        "videos",
        "videos/ab",
        "videos/ab/h",
        "videos/ab/h.txt",
        "videos/ab/h/master.m3u8",
    ]
    assert (root / "videos/ab/h/master.m3u8").read_bytes() == b"#EXTM3U\n"
    assert (root / "odd/100%~tilde").read_bytes() == b"odd"
    assert json.loads((root / ".vylux-meta/videos/ab/h/master.m3u8.json").read_text()) == {
        "content_type": "audio/mpegurl",
        "cache_control": "x",
    }
    assert await listed(store) == ["odd/100%~tilde", "videos/ab/h.txt", "videos/ab/h/master.m3u8"]


async def test_written_files_get_ordinary_permissions(
    store: LocalDirObjectStore, root: Path
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)

    await store.put_bytes("a/k.png", b"x", content_type="image/png")

    # Not mkstemp's 0o600: a static file server running as another user can read it.
    assert (root / "a/k.png").stat().st_mode & 0o777 == 0o666 & ~umask


async def test_a_dropped_in_file_is_an_object_without_content_type(
    store: LocalDirObjectStore, root: Path
) -> None:
    (root / "photos").mkdir()
    (root / "photos/cat.png").write_bytes(b"\x89PNG dropped in")
    (root / "photo.png").write_bytes(b"\x89PNG")

    assert await listed(store) == ["photo.png", "photos/cat.png"]
    assert await store.stat("photos/cat.png") == ObjectInfo(
        key="photos/cat.png", size=15, content_type=None
    )
    reader = await store.open("photo.png")
    assert reader.info == ObjectInfo(key="photo.png", size=4, content_type=None)
    await reader.aclose()
    assert await store.read_bytes("photos/cat.png", max_bytes=100) == b"\x89PNG dropped in"

    await store.delete_many(["photos/cat.png", "photo.png"])
    assert tree(root) == []


async def test_metadata_temp_files_and_foreign_names_are_never_listed(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("d/kept", b"x", content_type="text/plain")
    (root / "d" / ".vylux-tmp-abc123").write_bytes(b"a write that crashed")
    (root / ".vylux-meta" / "d" / "orphan.json").write_text("{}")
    (root / ".vylux-meta" / "stray").write_text("not a key")
    (root / "d" / ".vyluxish").mkdir()
    (root / "d" / ".vyluxish" / "x").write_bytes(b"reserved directory")
    (root / "d" / ("s" * 251)).write_bytes(b"name too long for a key")
    with open(os.path.join(os.fsencode(root / "d"), b"not-utf8-\xff"), "wb") as handle:
        handle.write(b"name is not text")
    os.mkfifo(root / "d" / "fifo")
    (root / "d" / "empty-directory").mkdir()
    (root / "d" / "README").write_text("a valid name: an object")

    assert await listed(store) == ["d/README", "d/kept"]
    with pytest.raises(ObjectNotFound):
        await store.stat("d/fifo")  # nor hangs opening it


async def test_listing_skips_paths_longer_than_a_key(
    store: LocalDirObjectStore, root: Path
) -> None:
    deep = root.joinpath(*["d" * 200] * 5)
    deep.mkdir(parents=True)
    (deep / "fits").write_bytes(b"x")  # 1009 bytes
    (deep / ("x" * 19)).write_bytes(b"x")  # 1024 bytes
    (deep / ("y" * 20)).write_bytes(b"x")  # 1025 bytes

    assert await listed(store) == [
        "/".join([*["d" * 200] * 5, "fits"]),
        "/".join([*["d" * 200] * 5, "x" * 19]),
    ]


async def test_delete_removes_sidecars_and_prunes_empty_directories(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("a/b/c/one", b"1", content_type="text/plain")
    await store.put_bytes("a/two", b"2", content_type="text/plain")

    await store.delete_many(["a/b/c/one"])
    assert tree(root) == [".vylux-meta", ".vylux-meta/a", ".vylux-meta/a/two.json", "a", "a/two"]
    assert await store.delete_prefix("a/") == 1
    # The root and the metadata directory stay.
    assert tree(root.parent) == ["media", "media/.vylux-meta"]
    await store.put_bytes("top", b"t", content_type="text/plain")
    await store.delete_many(["top"])
    assert tree(root.parent) == ["media", "media/.vylux-meta"]


async def test_pruning_stops_at_a_directory_that_is_not_empty(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("a/b/one", b"1", content_type="text/plain")
    (root / "a" / "notes.txt").write_text("dropped in")

    await store.delete_many(["a/b/one"])

    assert tree(root) == [".vylux-meta", "a", "a/notes.txt"]


async def test_a_key_cannot_be_both_a_file_and_a_directory(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("a", b"file", content_type="text/plain")
    await store.put_bytes("b/x", b"below", content_type="text/plain")

    with pytest.raises(InvalidStorageKey, match="key conflicts with an existing object: a/x"):
        await store.put_bytes("a/x", b"y", content_type="text/csv")
    with pytest.raises(InvalidStorageKey, match="key conflicts with an existing object: b"):
        await store.put_bytes("b", b"y", content_type="text/csv")
    source = root.parent / "upload.bin"
    source.write_bytes(b"y")
    with pytest.raises(InvalidStorageKey, match="conflicts"):
        await store.upload_file("a/x/deeper", source, content_type="text/csv")

    # Reading the impossible keys finds nothing; the existing objects are untouched,
    # and the refused writes left no sidecar, temp file or directory behind.
    for key in ("a/x", "b", "a/x/deeper"):
        with pytest.raises(ObjectNotFound):
            await store.stat(key)
        assert not await object_exists(store, key)
    assert await store.stat("a") == ObjectInfo(key="a", size=4, content_type="text/plain")
    assert await store.stat("b/x") == ObjectInfo(key="b/x", size=5, content_type="text/plain")
    assert tree(root) == [
        ".vylux-meta",
        ".vylux-meta/a.json",
        ".vylux-meta/b",
        ".vylux-meta/b/x.json",
        "a",
        "b",
        "b/x",
    ]


async def test_sidecars_named_like_a_directory_conflict_too(store: LocalDirObjectStore) -> None:
    # The sidecar of "c" is ".vylux-meta/c.json", where "c.json/x" needs a directory.
    await store.put_bytes("c", b"file", content_type="text/plain")

    with pytest.raises(InvalidStorageKey, match="conflicts"):
        await store.put_bytes("c.json/x", b"y", content_type="text/plain")
    assert await listed(store) == ["c"]


async def test_an_empty_directory_in_the_way_is_replaced(
    store: LocalDirObjectStore, root: Path
) -> None:
    (root / "e" / "f").mkdir(parents=True)

    await store.put_bytes("e/f", b"x", content_type="text/plain")

    assert await store.read_bytes("e/f", max_bytes=1) == b"x"


async def test_a_reader_keeps_the_version_it_opened(store: LocalDirObjectStore) -> None:
    await store.put_bytes("k", b"old version", content_type="text/plain")
    reader = await store.open("k")

    await store.put_bytes("k", b"new", content_type="image/png")

    assert b"".join([chunk async for chunk in reader.chunks()]) == b"old version"
    await reader.aclose()
    assert await store.read_bytes("k", max_bytes=100) == b"new"


async def test_a_lost_or_broken_sidecar_only_loses_the_content_type(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("k", b"data", content_type="text/plain")
    await store.put_bytes("j", b"data", content_type="text/plain")
    (root / ".vylux-meta/k.json").unlink()
    (root / ".vylux-meta/j.json").write_text("not json")

    assert await store.stat("k") == ObjectInfo(key="k", size=4, content_type=None)
    assert await store.stat("j") == ObjectInfo(key="j", size=4, content_type=None)


# --- symlinks --------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret").write_bytes(b"not for clients")
    return directory


async def test_a_symlink_to_a_file_within_the_root_is_an_alias(
    store: LocalDirObjectStore, root: Path
) -> None:
    await store.put_bytes("photos/cat.png", b"cat", content_type="image/png")
    (root / "alias.png").symlink_to("photos/cat.png")
    (root / "photos" / "absolute.png").symlink_to(root / "photos" / "cat.png")
    (root / "chain.png").symlink_to("alias.png")

    assert await listed(store) == [
        "alias.png",
        "chain.png",
        "photos/absolute.png",
        "photos/cat.png",
    ]
    # The link's own sidecar (none) counts, not its target's.
    assert await store.stat("alias.png") == ObjectInfo(key="alias.png", size=3, content_type=None)
    assert await store.read_bytes("photos/absolute.png", max_bytes=3) == b"cat"
    assert await store.read_bytes("chain.png", max_bytes=3) == b"cat"


async def test_a_write_replaces_a_symlink_and_a_delete_removes_it_but_not_its_target(
    store: LocalDirObjectStore, root: Path, outside: Path
) -> None:
    await store.put_bytes("target", b"target", content_type="text/plain")
    (root / "alias").symlink_to("target")
    (root / "escape").symlink_to(outside / "secret")

    await store.put_bytes("alias", b"own bytes", content_type="text/plain")
    await store.put_bytes("escape", b"own bytes", content_type="text/plain")

    assert not (root / "alias").is_symlink()
    assert not (root / "escape").is_symlink()
    assert await store.read_bytes("target", max_bytes=100) == b"target"
    assert (outside / "secret").read_bytes() == b"not for clients"

    (root / "alias2").symlink_to("target")
    (root / "escape2").symlink_to(outside / "secret")
    await store.delete_many(["alias2", "escape2"])
    assert not (root / "alias2").is_symlink()
    assert not (root / "escape2").is_symlink()
    assert await object_exists(store, "target")
    assert (outside / "secret").exists()


@pytest.mark.parametrize(
    "link_target",
    [
        pytest.param("../outside/secret", id="relative-outside"),
        pytest.param("ABSOLUTE", id="absolute-outside"),
        pytest.param("../media/../outside/secret", id="back-out-through-the-root"),
        pytest.param(".vylux-meta/k.json", id="into-the-metadata-tree"),
        pytest.param(".", id="the-root"),
        pytest.param("photos", id="a-directory"),
        pytest.param("missing", id="dangling"),
        pytest.param("loop", id="loop"),
    ],
)
async def test_a_symlink_to_anything_but_a_file_within_the_root_is_not_an_object(
    store: LocalDirObjectStore, root: Path, outside: Path, link_target: str
) -> None:
    await store.put_bytes("k", b"k", content_type="text/plain")
    (root / "photos").mkdir()
    target = str(outside / "secret") if link_target == "ABSOLUTE" else link_target
    (root / "loop").symlink_to(target)

    assert await listed(store) == ["k"]
    assert not await object_exists(store, "loop")
    for use in (lambda: store.stat("loop"), lambda: store.open("loop")):
        with pytest.raises(ObjectNotFound):
            await use()


async def test_symlinked_directories_are_never_followed(
    store: LocalDirObjectStore, root: Path, outside: Path
) -> None:
    await store.put_bytes("photos/cat.png", b"cat", content_type="image/png")
    (root / "inside").symlink_to("photos")
    (root / "out").symlink_to(outside)

    assert await listed(store) == ["photos/cat.png"]
    for key in ("inside/cat.png", "out/secret"):
        with pytest.raises(ObjectNotFound):
            await store.stat(key)
        with pytest.raises(ObjectNotFound):
            await store.open(key)
        with pytest.raises(InvalidStorageKey, match="conflicts"):
            await store.put_bytes(key, b"overwrite", content_type="text/plain")
    with pytest.raises(InvalidStorageKey, match="conflicts"):
        await store.put_bytes("out/new/file", b"x", content_type="text/plain")
    await store.delete_many(["out/secret", "inside/cat.png"])
    assert await store.delete_prefix("out/") == 0

    assert sorted(path.name for path in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"not for clients"
    assert await store.read_bytes("photos/cat.png", max_bytes=3) == b"cat"
    assert (root / "inside").is_symlink()
    assert (root / "out").is_symlink()


async def test_a_symlinked_metadata_directory_is_not_followed(
    store: LocalDirObjectStore, root: Path, outside: Path
) -> None:
    (root / "k").write_bytes(b"k")
    (outside / "k.json").write_text('{"content_type": "text/html"}')
    (root / ".vylux-meta").symlink_to(outside)

    assert await store.stat("k") == ObjectInfo(key="k", size=1, content_type=None)
    with pytest.raises(StorageUnavailable):
        await store.put_bytes("k", b"x", content_type="text/plain")
    assert sorted(path.name for path in outside.iterdir()) == ["k.json", "secret"]


# --- the root --------------------------------------------------------------------------------


async def test_a_missing_root_is_an_outage_and_is_not_created(tmp_path: Path) -> None:
    root = tmp_path / "unmounted"
    store = LocalDirObjectStore(root=root)

    uses: list[Callable[[], Awaitable[object]]] = [
        store.ping,
        lambda: store.put_bytes("a/b", b"x", content_type="text/plain"),
        lambda: store.stat("a/b"),
        lambda: store.open("a/b"),
        lambda: listed(store, "a/"),
        lambda: store.delete_many(["a/b"]),
    ]
    for use in uses:
        with pytest.raises(StorageUnavailable):  # an unmounted volume is not "not found"
            await use()
    assert not root.exists()


async def test_a_root_that_is_a_file_fails_ping(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_text("not a directory")

    with pytest.raises(StorageUnavailable):
        await LocalDirObjectStore(root=root).ping()


async def test_a_root_that_is_a_symlink_is_followed(tmp_path: Path, root: Path) -> None:
    (tmp_path / "link").symlink_to(root)
    store = LocalDirObjectStore(root=tmp_path / "link")
    (root / "alias").symlink_to(root / "k")  # absolute, through the real path

    await store.put_bytes("k", b"k", content_type="text/plain")

    assert await listed(store) == ["alias", "k"]
    assert await store.read_bytes("alias", max_bytes=1) == b"k"


async def test_ping_leaves_nothing_behind(store: LocalDirObjectStore, root: Path) -> None:
    await store.ping()

    assert tree(root) == []


async def test_upload_from_a_missing_source_leaves_no_temp_file(
    store: LocalDirObjectStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await store.upload_file("k", tmp_path / "nope", content_type="text/plain")

    assert tree(root) == []
