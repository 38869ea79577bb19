"""Media-store key layout (worker §6.2) and the rejection of keys that could escape it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vylux_core.errors import InvalidHash, InvalidInput, InvalidStorageKey
from vylux_core.media.storage_keys import (
    checked_relative_path,
    cover_key,
    image_prefix,
    preview_key,
    rendition_cache_key,
    thumbnail_key,
    video_key,
    video_prefix,
)

H = "abcdef1234567890"
DIGEST = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("build", "want"),
    [
        pytest.param(lambda: image_prefix(H), "images/ab/abcdef1234567890/", id="image-prefix"),
        pytest.param(lambda: video_prefix(H), "videos/ab/abcdef1234567890/", id="video-prefix"),
        pytest.param(
            lambda: image_prefix("a"), "images/a/a/", id="short-hash-prefix-is-whole-hash"
        ),
        pytest.param(lambda: video_prefix("Zz"), "videos/Zz/Zz/", id="two-char-hash"),
        pytest.param(
            lambda: thumbnail_key(H, "thumb", "webp"),
            "images/ab/abcdef1234567890/thumb.webp",
            id="thumbnail",
        ),
        pytest.param(
            lambda: thumbnail_key(H, "small_2x-a", "jpg"),
            "images/ab/abcdef1234567890/small_2x-a.jpg",
            id="thumbnail-variant-charset",
        ),
        pytest.param(
            lambda: thumbnail_key("a", "thumb", "png"),
            "images/a/a/thumb.png",
            id="thumbnail-short-hash",
        ),
        pytest.param(lambda: cover_key(H), "videos/ab/abcdef1234567890/cover.jpg", id="cover"),
        pytest.param(
            lambda: preview_key(H, "webp"),
            "videos/ab/abcdef1234567890/preview.webp",
            id="preview-webp",
        ),
        pytest.param(
            lambda: preview_key(H, "gif"),
            "videos/ab/abcdef1234567890/preview.gif",
            id="preview-gif",
        ),
        pytest.param(
            lambda: video_key(H, "master.m3u8"),
            "videos/ab/abcdef1234567890/master.m3u8",
            id="master-playlist",
        ),
        pytest.param(
            lambda: video_key(H, "audio/und_aac_2ch/init.mp4"),
            "videos/ab/abcdef1234567890/audio/und_aac_2ch/init.mp4",
            id="audio-init",
        ),
        pytest.param(
            lambda: video_key(H, "audio/und_aac_2ch/playlist.m3u8"),
            "videos/ab/abcdef1234567890/audio/und_aac_2ch/playlist.m3u8",
            id="audio-playlist",
        ),
        pytest.param(
            lambda: video_key(H, "video/r1080_av1/seg_12.m4s"),
            "videos/ab/abcdef1234567890/video/r1080_av1/seg_12.m4s",
            id="video-segment",
        ),
        pytest.param(
            lambda: video_key(H, "video/r240_h264/init.mp4"),
            "videos/ab/abcdef1234567890/video/r240_h264/init.mp4",
            id="video-init",
        ),
        pytest.param(
            lambda: video_key(H, "..seg.m4s"),
            "videos/ab/abcdef1234567890/..seg.m4s",
            id="dots-inside-a-name-are-fine",
        ),
        pytest.param(
            lambda: rendition_cache_key(DIGEST, "webp"),
            f"cache/{DIGEST}.webp",
            id="rendition-cache",
        ),
        pytest.param(
            lambda: rendition_cache_key(DIGEST, "avif"),
            f"cache/{DIGEST}.avif",
            id="rendition-cache-avif",
        ),
    ],
)
def test_key_layout(build: Callable[[], str], want: str) -> None:
    assert build() == want


@pytest.mark.parametrize(
    ("build", "error"),
    [
        # relative paths that could leave the hash's tree
        pytest.param(lambda: video_key(H, ""), InvalidStorageKey, id="empty-path"),
        pytest.param(lambda: video_key(H, "/etc/passwd"), InvalidStorageKey, id="absolute-path"),
        pytest.param(lambda: video_key(H, ".."), InvalidStorageKey, id="dotdot"),
        pytest.param(
            lambda: video_key(H, "../other/master.m3u8"), InvalidStorageKey, id="leading-dotdot"
        ),
        pytest.param(lambda: video_key(H, "video/../../x"), InvalidStorageKey, id="inner-dotdot"),
        pytest.param(lambda: video_key(H, "video/.."), InvalidStorageKey, id="trailing-dotdot"),
        pytest.param(lambda: video_key(H, "./master.m3u8"), InvalidStorageKey, id="dot-segment"),
        pytest.param(
            lambda: video_key(H, "video//init.mp4"), InvalidStorageKey, id="empty-segment"
        ),
        pytest.param(lambda: video_key(H, "video/"), InvalidStorageKey, id="trailing-slash"),
        pytest.param(lambda: video_key(H, "seg\x00.m4s"), InvalidStorageKey, id="nul"),
        pytest.param(lambda: video_key(H, "..\\secret"), InvalidStorageKey, id="backslash"),
        pytest.param(
            lambda: video_key(H, "video\\init.mp4"), InvalidStorageKey, id="backslash-separator"
        ),
        pytest.param(
            lambda: checked_relative_path("a/./b"), InvalidStorageKey, id="checked-path-dot"
        ),
        # bad hashes (InvalidHash, also an InvalidInput)
        pytest.param(lambda: image_prefix(""), InvalidHash, id="empty-hash"),
        pytest.param(lambda: video_prefix(".."), InvalidHash, id="dotdot-hash"),
        pytest.param(lambda: video_prefix("a/b"), InvalidHash, id="slash-hash"),
        pytest.param(lambda: cover_key("a\\b"), InvalidHash, id="backslash-hash"),
        pytest.param(
            lambda: thumbnail_key("", "thumb", "webp"), InvalidHash, id="thumbnail-empty-hash"
        ),
        pytest.param(lambda: preview_key("x" * 129, "webp"), InvalidHash, id="preview-long-hash"),
        # variants
        pytest.param(lambda: thumbnail_key(H, "", "webp"), InvalidStorageKey, id="empty-variant"),
        pytest.param(
            lambda: thumbnail_key(H, "Thumb", "webp"), InvalidStorageKey, id="upper-case-variant"
        ),
        pytest.param(
            lambda: thumbnail_key(H, "../x", "webp"), InvalidStorageKey, id="traversal-variant"
        ),
        pytest.param(
            lambda: thumbnail_key(H, "a.b", "webp"), InvalidStorageKey, id="dotted-variant"
        ),
        pytest.param(
            lambda: thumbnail_key(H, "a" * 33, "webp"), InvalidStorageKey, id="33-char-variant"
        ),
        # extensions
        pytest.param(
            lambda: thumbnail_key(H, "thumb", ""), InvalidStorageKey, id="empty-extension"
        ),
        pytest.param(
            lambda: thumbnail_key(H, "thumb", ".webp"), InvalidStorageKey, id="dotted-extension"
        ),
        pytest.param(lambda: preview_key(H, "WEBP"), InvalidStorageKey, id="upper-case-extension"),
        pytest.param(lambda: preview_key(H, "gif/x"), InvalidStorageKey, id="slash-extension"),
        pytest.param(
            lambda: rendition_cache_key(DIGEST, "toolongext"),
            InvalidStorageKey,
            id="9-plus-char-extension",
        ),
        # processing hashes
        pytest.param(
            lambda: rendition_cache_key(DIGEST.upper(), "webp"),
            InvalidStorageKey,
            id="upper-case-digest",
        ),
        pytest.param(
            lambda: rendition_cache_key(DIGEST[:-1], "webp"), InvalidStorageKey, id="63-char-digest"
        ),
        pytest.param(
            lambda: rendition_cache_key(DIGEST + "0", "webp"),
            InvalidStorageKey,
            id="65-char-digest",
        ),
        pytest.param(
            lambda: rendition_cache_key("g" * 64, "webp"), InvalidStorageKey, id="non-hex-digest"
        ),
        pytest.param(
            lambda: rendition_cache_key("../" + DIGEST[3:], "webp"),
            InvalidStorageKey,
            id="traversal-digest",
        ),
    ],
)
def test_rejects(build: Callable[[], str], error: type[InvalidInput]) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()

    assert type(caught.value) is error
