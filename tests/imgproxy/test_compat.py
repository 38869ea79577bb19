"""imgproxy compatibility: URLs from the official client against the real app.

Every URL below is built by ``@imgproxy/imgproxy-node`` (signed with the embedded
profile's generated ``IMGPROXY_KEY``/``IMGPROXY_SALT``) and served by the production
app (bootstrap, local source store, libvips). Expected sizes are worked out by hand
from imgproxy's documented arithmetic (``calcScale``, result crop, extend, padding,
dpr) for the sources of ``conftest``: a.jpg is 400×300, b.png 300×400 with alpha,
r.jpg stored 400×300 with EXIF orientation 6 (displayed 300×400).
"""

from __future__ import annotations

from typing import Any

import pytest
import pyvips  # type: ignore[import-untyped]
from attrs import frozen

from tests.imgproxy.conftest import client_urls
from tests.reliability.embedded_server import EmbeddedServer

A = "photos/a.jpg"
B = "photos/b.png"
R = "photos/r.jpg"


@frozen
class Case:
    id: str
    options: dict[str, Any]
    size: tuple[int, int]
    format: str  # the content type's subtype
    source: str = A
    display: str = "plain"
    accept: str = "*/*"
    vary: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None


def rs(kind: str, width: int, height: int, **more: Any) -> dict[str, Any]:
    return {"rs": {"resizing_type": kind, "width": width, "height": height, **more}}


def fit(width: int, height: int, **more: Any) -> dict[str, Any]:
    return {"resize": {"resizing_type": "fit", "width": width, "height": height, **more}}


FILL100 = rs("fill", 100, 100)


CASES = [
    # resizing types
    Case("fit-box", fit(100, 100), (100, 75), "jpeg"),
    Case("fill-box", FILL100, (100, 100), "jpeg"),
    Case("fill-down-small", rs("fill-down", 100, 100), (100, 100), "jpeg"),
    Case("fill-down-equal-ratio", rs("fill-down", 800, 600), (400, 300), "jpeg"),
    Case("fill-down-wide", rs("fill-down", 800, 300), (400, 150), "jpeg"),
    Case("fit-no-enlarge", fit(800, 800), (400, 300), "jpeg"),
    Case("fit-enlarge", fit(800, 800, enlarge=1), (800, 600), "jpeg"),
    Case("force-box", rs("force", 100, 100), (100, 100), "jpeg"),
    Case("force-width-only", {"resizing_type": "force", "width": 100}, (100, 300), "jpeg"),
    Case("auto-portrait-box", rs("auto", 100, 200), (100, 75), "jpeg"),
    Case("auto-landscape-box", rs("auto", 200, 100), (200, 100), "jpeg"),
    Case("width-only", {"width": 200}, (200, 150), "jpeg"),
    Case("height-only", {"height": 150}, (200, 150), "jpeg"),
    Case("size", {"size": {"width": 200, "height": 100}}, (133, 100), "jpeg"),
    # "When both width and min-width are set, the final image will be cropped according
    # to width" (imgproxy's documentation).
    Case("min-width", {"width": 100, "min_width": 200}, (100, 150), "jpeg"),
    Case("min-height", {"height": 50, "min_height": 150}, (200, 50), "jpeg"),
    Case("min-width-alone", {"min_width": 500}, (500, 375), "jpeg"),
    Case("zoom", {"zoom": 0.5}, (200, 150), "jpeg"),
    Case("dpr-fit", {"width": 100, "dpr": 2}, (200, 150), "jpeg"),
    Case("dpr-fill", {**FILL100, "dpr": 2}, (200, 200), "jpeg"),
    Case("enlarge-width", {"width": 800, "enlarge": 1}, (800, 600), "jpeg"),
    Case("no-enlarge-width", {"width": 800}, (400, 300), "jpeg"),
    # extend and gravity
    Case(
        "extend",
        {**fit(500, 500, extend={"extend": 1}), "format": "png"},
        (500, 500),
        "png",
        vary=False,
    ),
    Case(
        "extend-gravity",
        {**fit(500, 500), "extend": {"extend": 1, "gravity": {"type": "no"}}, "format": "png"},
        (500, 500),
        "png",
        vary=False,
    ),
    Case("gravity-north", {**FILL100, "gravity": {"type": "no"}}, (100, 100), "jpeg"),
    Case(
        "gravity-offsets",
        {**FILL100, "gravity": {"type": "we", "x_offset": 5, "y_offset": 5}},
        (100, 100),
        "jpeg",
    ),
    Case(
        "gravity-focus",
        {**FILL100, "gravity": {"type": "fp", "x": 0.2, "y": 0.8}},
        (100, 100),
        "jpeg",
    ),
    Case("gravity-smart", {**FILL100, "gravity": {"type": "sm"}}, (100, 100), "jpeg"),
    # crop and padding
    Case("crop-pixels", {"crop": {"width": 200, "height": 100}}, (200, 100), "jpeg"),
    Case("crop-share", {"crop": {"width": 0.5, "height": 0.5}}, (200, 150), "jpeg"),
    Case(
        "crop-then-resize", {"crop": {"width": 200, "height": 100}, "width": 100}, (100, 50), "jpeg"
    ),
    Case(
        "crop-gravity-fill",
        {"crop": {"width": 200, "height": 200, "gravity": {"type": "ea"}}, **rs("fill", 50, 50)},
        (50, 50),
        "jpeg",
    ),
    Case("padding", {"width": 100, "padding": {"top": 10, "right": 20}}, (140, 95), "jpeg"),
    Case("padding-dpr", {"width": 100, "dpr": 2, "padding": {"top": 5}}, (220, 170), "jpeg"),
    # rotation, flips, filters
    Case("rotate-90", {"rotate": 90, "width": 150}, (150, 200), "jpeg"),
    Case("rotate-180", {"rotate": 180}, (400, 300), "jpeg"),
    Case("flip", {"flip": {"horizontal": 1, "vertical": 1}, "width": 100}, (100, 75), "jpeg"),
    Case("blur", {"blur": 2, "width": 100}, (100, 75), "jpeg"),
    Case("sharpen", {"sharpen": 1, "width": 100}, (100, 75), "jpeg"),
    Case("pixelate", {"pixelate": 8, "width": 100}, (100, 75), "jpeg"),
    Case("auto-rotate", {"width": 150}, (150, 200), "jpeg", source=R),
    Case("no-auto-rotate", {"auto_rotate": 0, "width": 150}, (150, 113), "jpeg", source=R),
    # formats, quality, background
    Case("format-webp", {"format": "webp", "width": 100}, (100, 75), "webp", vary=False),
    Case("format-avif", {"format": "avif", "width": 100}, (100, 75), "avif", vary=False),
    Case("format-gif", {"format": "gif", "width": 100}, (100, 75), "gif", vary=False),
    Case("format-png", {"format": "png", "width": 100}, (100, 75), "png", vary=False),
    Case("format-tiff", {"format": "tiff", "width": 100}, (100, 75), "tiff", vary=False),
    Case(
        "format-tiff-alpha", {"format": "tiff", "width": 60}, (60, 80), "tiff", source=B, vary=False
    ),
    Case("quality", {"quality": 40, "width": 100}, (100, 75), "jpeg"),
    Case(
        "format-quality",
        {"format_quality": [{"format": "jpg", "quality": 30}], "width": 100},
        (100, 75),
        "jpeg",
    ),
    Case("alpha-source-keeps-png", {"width": 150}, (150, 200), "png", source=B),
    Case(
        "background-to-jpeg",
        {"background": "ff0000", "format": "jpg", "width": 150},
        (150, 200),
        "jpeg",
        source=B,
        vary=False,
    ),
    Case(
        "background-rgb",
        {"background": {"r": 0, "g": 0, "b": 255}, "width": 150},
        (150, 200),
        "png",
        source=B,
    ),
    # source forms and delivery options
    Case("base64-source", fit(100, 100), (100, 75), "jpeg", display="base64"),
    Case(
        "base64-webp",
        {**fit(100, 100), "format": "webp"},
        (100, 75),
        "webp",
        display="base64",
        vary=False,
    ),
    Case("local-scheme", {"width": 100}, (100, 75), "jpeg", source="local:///photos/a.jpg"),
    Case("cachebuster", {"cachebuster": "v2", "width": 100}, (100, 75), "jpeg"),
    Case("strip-metadata", {"strip_metadata": 1, "width": 100}, (100, 75), "jpeg"),
    Case("expires-future", {"expires": 4102444800, "width": 100}, (100, 75), "jpeg"),
    Case(
        "filename-attachment",
        {"filename": {"name": "picture"}, "return_attachment": 1, "width": 100},
        (100, 75),
        "jpeg",
        headers=(("content-disposition", 'attachment; filename="picture.jpg"'),),
    ),
    Case(
        "inline-name",
        {"width": 100},
        (100, 75),
        "jpeg",
        headers=(("content-disposition", 'inline; filename="a.jpg"'),),
    ),
    # extend_aspect_ratio, max_bytes, skip_processing, accepted metadata switches
    Case(
        "extend-aspect-ratio",
        {**fit(200, 200), "extend_aspect_ratio": {"extend": 1}, "format": "png"},
        (200, 200),
        "png",
        vary=False,
    ),
    Case(
        "extend-aspect-ratio-wide",
        {**fit(300, 100), "exar": {"extend": 1, "gravity": {"type": "we"}}, "format": "png"},
        (300, 100),
        "png",
        vary=False,
    ),
    Case(
        "max-bytes",
        {"width": 200, "quality": 95, "max_bytes": 3000, "format": "jpg"},
        (200, 150),
        "jpeg",
        vary=False,
        max_length=3000,
    ),
    Case("skip-processing", {"skip_processing": ["jpg"], "width": 100}, (400, 300), "jpeg"),
    Case("skip-other-format", {"skip_processing": ["png"], "width": 100}, (100, 75), "jpeg"),
    Case("keep-copyright", {"keep_copyright": 1, "width": 100}, (100, 75), "jpeg"),
    Case("strip-color-profile", {"strip_color_profile": 1, "width": 100}, (100, 75), "jpeg"),
    Case("preset", {"preset": ["thumb"]}, (64, 64), "png", vary=False),
    Case(
        "preset-then-option", {"preset": ["square"], "format": "webp"}, (50, 50), "webp", vary=False
    ),
]


@pytest.fixture(scope="module")
def urls(server: EmbeddedServer) -> dict[str, str]:
    built = client_urls(
        server,
        [
            {"source": case.source, "display": case.display, "options": case.options}
            for case in CASES
        ],
    )
    return {case.id: url for case, url in zip(CASES, built, strict=True)}


def test_the_suite_covers_forty_combinations() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_client_url(server: EmbeddedServer, urls: dict[str, str], case: Case) -> None:
    url = urls[case.id]
    response = await server.client.get(url, headers={"Accept": case.accept})
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"] == f"image/{case.format}", url
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == case.size, url
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["etag"].startswith('"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert ("vary" in response.headers) is case.vary, url
    if case.vary:
        assert response.headers["vary"] == "Accept"
    if case.max_length is not None:
        assert len(response.content) <= case.max_length
    for name, value in case.headers:
        assert response.headers[name].startswith(value), (name, response.headers[name])
    # Metadata never leaves: no EXIF on any output.
    assert image.get_typeof("exif-data") == 0


async def test_conditional_and_head(server: EmbeddedServer, urls: dict[str, str]) -> None:
    url = urls["fill-box"]
    first = await server.client.get(url)
    again = await server.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    head = await server.client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == first.headers["content-length"]
