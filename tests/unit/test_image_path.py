from __future__ import annotations

import pytest

from vylux_core.errors import InvalidStorageKey, UnsupportedFormat, VyluxError
from vylux_core.images.options import ImageFormat
from vylux_core.images.path import canonical_image_path, parse_image_request_path


@pytest.mark.parametrize(
    ("remainder", "want_key", "want_format"),
    [
        pytest.param(
            "uploads/My%20Image.png.webp",
            "uploads/My Image.png",
            ImageFormat.WEBP,
            id="encoded-space",
        ),
        pytest.param(
            "uploads/My Image.png.webp", "uploads/My Image.png", ImageFormat.WEBP, id="decoded"
        ),
        pytest.param(
            "uploads%2Favatars%2Fsample.jpg.webp",
            "uploads/avatars/sample.jpg",
            ImageFormat.WEBP,
            id="spec-anatomy-example",
        ),
        pytest.param(
            "uploads%2FMy%20Image.png.JPEG",
            "uploads/My Image.png",
            ImageFormat.JPG,
            id="upper-case-jpeg-alias",
        ),
        pytest.param("a.b/c.png", "a.b/c", ImageFormat.PNG, id="dot-in-directory"),
        pytest.param("100%25.png.gif", "100%.png", ImageFormat.GIF, id="decoded-once"),
        pytest.param("a+b.avif", "a+b", ImageFormat.AVIF, id="plus-kept"),
    ],
)
def test_parse_image_request_path(remainder: str, want_key: str, want_format: ImageFormat) -> None:
    assert parse_image_request_path(remainder) == (want_key, want_format)


@pytest.mark.parametrize(
    ("remainder", "want"),
    [
        pytest.param("uploads/My%20Image.png.webp", "uploads/My Image.png.webp", id="encoded"),
        pytest.param("uploads/My Image.png.webp", "uploads/My Image.png.webp", id="decoded"),
        pytest.param("uploads/My Image.png.jpeg", "uploads/My Image.png.jpg", id="jpeg-to-jpg"),
    ],
)
def test_canonical_image_path(remainder: str, want: str) -> None:
    assert canonical_image_path(remainder) == want


@pytest.mark.parametrize(
    ("remainder", "error", "message"),
    [
        pytest.param("", InvalidStorageKey, "missing source path", id="empty-remainder"),
        pytest.param("uploads/photo", UnsupportedFormat, "unsupported output format", id="no-ext"),
        pytest.param(
            "a.png/photo", UnsupportedFormat, "unsupported output format", id="dot-only-in-dir"
        ),
        pytest.param("photo.", UnsupportedFormat, "unsupported output format", id="empty-ext"),
        pytest.param("photo.bmp", UnsupportedFormat, "unsupported output format", id="bmp"),
        pytest.param(
            "photo.we%62p", UnsupportedFormat, "unsupported output format", id="encoded-ext"
        ),
        pytest.param(
            "%zz.bmp", UnsupportedFormat, "unsupported output format", id="format-checked-first"
        ),
        pytest.param("%zz.webp", InvalidStorageKey, "invalid source encoding", id="bad-escape"),
        pytest.param("a%4.webp", InvalidStorageKey, "invalid source encoding", id="truncated"),
        pytest.param("%ff.webp", InvalidStorageKey, "invalid source encoding", id="bad-utf8"),
        pytest.param(".webp", InvalidStorageKey, "missing source key", id="empty-source"),
    ],
)
def test_parse_image_request_path_rejects(
    remainder: str, error: type[VyluxError], message: str
) -> None:
    with pytest.raises(error) as caught:
        parse_image_request_path(remainder)
    assert str(caught.value) == message
