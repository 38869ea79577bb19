"""mime_types: the explicit extension table of http-api §5.4 and what /stream may serve."""

from __future__ import annotations

import pytest

from vylux_core.media.mime_types import (
    OCTET_STREAM,
    STREAMABLE,
    content_type_for,
    extension_of,
    is_active_content,
)

TABLE = [
    # required by §5.4
    (".avif", "image/avif"),
    (".css", "text/css; charset=utf-8"),
    (".gif", "image/gif"),
    (".htm", "text/html; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".jpeg", "image/jpeg"),
    (".jpg", "image/jpeg"),
    (".js", "text/javascript; charset=utf-8"),
    (".mjs", "text/javascript; charset=utf-8"),
    (".json", "application/json"),
    (".pdf", "application/pdf"),
    (".png", "image/png"),
    (".svg", "image/svg+xml"),
    (".wasm", "application/wasm"),
    (".webp", "image/webp"),
    (".xml", "text/xml; charset=utf-8"),
    # recommended additions
    (".mp4", "video/mp4"),
    (".m4a", "audio/mp4"),
    (".vtt", "text/vtt; charset=utf-8"),
    (".m4s", "video/iso.segment"),
    (".m3u8", "application/vnd.apple.mpegurl"),
    (".mp3", "audio/mpeg"),
    (".flac", "audio/flac"),
]


@pytest.mark.parametrize(("extension", "want"), [pytest.param(e, t, id=e) for e, t in TABLE])
@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(str.lower, id="lower"),
        pytest.param(str.upper, id="upper"),
        pytest.param(str.title, id="title"),
    ],
)
def test_the_table_is_case_insensitive(spell: object, extension: str, want: str) -> None:
    assert callable(spell)
    assert content_type_for("uploads/dir/file" + spell(extension)) == want


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("file.bin", id="unknown"),
        pytest.param("README", id="no-extension"),
        pytest.param("dir.png/file", id="dot-in-directory-only"),
        pytest.param("archive.tar.gz", id="last-extension-counts"),
        pytest.param("file.png.", id="trailing-dot"),
        pytest.param("", id="empty"),
    ],
)
def test_unknown_extensions_have_no_type(key: str) -> None:
    assert content_type_for(key) is None


@pytest.mark.parametrize(
    ("key", "want"),
    [
        pytest.param("a/b/c.PNG", ".png", id="lower-cased"),
        pytest.param("a.b/c", "", id="dot-in-directory"),
        pytest.param("photo.png.webp", ".webp", id="last-dot"),
        pytest.param("a/b", "", id="none"),
    ],
)
def test_extension_of(key: str, want: str) -> None:
    assert extension_of(key) == want


def test_streamable_extensions() -> None:
    assert {
        ".m3u8", ".mpd", ".m4s", ".mp4", ".m4a", ".mp3", ".flac", ".jpg", ".jpeg", ".webp", ".gif",
        ".vtt", ".json",
    } == STREAMABLE  # fmt: skip
    assert content_type_for("manifest.mpd") == "application/dash+xml"
    assert all(content_type_for("x" + ext) for ext in STREAMABLE)


@pytest.mark.parametrize(
    ("content_type", "active"),
    [
        pytest.param("text/html; charset=utf-8", True, id="html-from-table"),
        pytest.param("image/svg+xml", True, id="svg"),
        pytest.param("text/xml; charset=utf-8", True, id="xml-from-table"),
        pytest.param("text/html", True, id="bare-html"),
        pytest.param("TEXT/HTML;charset=UTF-8", True, id="upper-case"),
        pytest.param(" image/svg+xml ; foo=bar", True, id="spaces"),
        pytest.param("application/xhtml+xml", True, id="xhtml"),
        pytest.param("application/xml", True, id="application-xml"),
        pytest.param("application/dash+xml", True, id="dash-manifest"),
        pytest.param("image/png", False, id="png"),
        pytest.param("text/plain; charset=utf-8", False, id="text"),
        pytest.param(OCTET_STREAM, False, id="octet-stream"),
        pytest.param("", False, id="empty"),
    ],
)
def test_active_content(content_type: str, active: bool) -> None:
    assert is_active_content(content_type) is active
