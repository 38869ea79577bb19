"""JPEG shrink-on-load: decoded at the smallest DCT scale still at least the
thumbnail's size, with the same geometry as libvips' own ``thumbnail``."""

from __future__ import annotations

from typing import Any

import pytest
import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.resize import jpeg_shrink, jpeg_thumbnail, load_shrink, thumbnail
from vylux_core.images.geometry import Size


@pytest.mark.parametrize(
    ("factor", "shrink"),
    [(1.0, 1), (1.99, 1), (2.0, 2), (3.75, 2), (4.0, 4), (7.5, 4), (8.0, 8), (40.0, 8), (0.5, 1)],
)
def test_the_dct_scale_never_goes_below_the_target(factor: float, shrink: int) -> None:
    assert jpeg_shrink(factor) == shrink


@pytest.mark.parametrize(
    ("display", "box", "size", "crop", "factor"),
    [
        (Size(6000, 4000), (800, 8192), "both", False, 7.5),  # fit: the larger factor
        (Size(1920, 1080), (512, 512), "down", False, 3.75),
        (Size(1920, 1080), (512, 512), "down", True, 2.109375),  # crop: the smaller one
        (Size(1920, 1080), (512, 100), "force", False, 3.75),
        (Size(100, 100), (400, 400), "down", False, 1.0),  # never enlarged: no shrink
        (Size(100, 100), (400, 400), "both", False, 0.25),
        (Size(4000, 3000), (100, 100), "up", False, 1.0),
    ],
)
def test_the_load_shrink_follows_thumbnails_rule(
    display: Size, box: tuple[int, int], size: str, crop: bool, factor: float
) -> None:
    assert load_shrink(display, *box, size=size, crop=crop) == pytest.approx(factor)


def _jpeg(width: int, height: int, orientation: int = 1) -> bytes:
    image = pyvips.Image.xyz(width, height).bandjoin(0).cast("uchar").copy(interpretation="srgb")
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return bytes(image.jpegsave_buffer(Q=90))


CASES = [
    pytest.param(3001, 2001, 1, 800, {"height": 8192, "size": "both"}, id="fit-wide-odd"),
    pytest.param(2001, 3001, 1, 300, {"height": 300, "size": "down"}, id="fit-tall"),
    pytest.param(1920, 1080, 1, 512, {"height": 512, "size": "down"}, id="fit-box"),
    pytest.param(1920, 1080, 1, 500, {"height": 500, "crop": "centre"}, id="crop-square"),
    pytest.param(1920, 1080, 1, 333, {"height": 77, "size": "force"}, id="force"),
    pytest.param(3000, 2000, 6, 400, {"height": 8192, "size": "both"}, id="exif-rotated"),
    pytest.param(3000, 2000, 6, 250, {"height": 100, "crop": "centre"}, id="rotated-crop"),
    pytest.param(800, 600, 1, 1600, {"height": 8192, "size": "both"}, id="enlarged"),
]


@pytest.mark.parametrize(("width", "height", "orientation", "target", "options"), CASES)
def test_geometry_is_that_of_libvips_thumbnail(
    width: int, height: int, orientation: int, target: int, options: dict[str, Any]
) -> None:
    source = _jpeg(width, height, orientation)

    ours = jpeg_thumbnail(source, target, **options)
    theirs = pyvips.Image.thumbnail_buffer(source, target, **options)

    assert (ours.width, ours.height) == (theirs.width, theirs.height)
    assert ours.get_typeof("orientation") == 0 or ours.get("orientation") == 1


def test_a_jpeg_is_decoded_at_the_smallest_scale_at_least_the_target() -> None:
    # A photo-like source (noise), so that the decode scale shows in the pixels.
    noise = pyvips.Image.gaussnoise(6000, 4000, sigma=40, mean=128)
    source = bytes(noise.bandjoin([noise, noise]).cast("uchar").jpegsave_buffer(Q=90))

    # In memory: each pipeline reads its source once, front to back.
    ours = thumbnail(source, 800, height=8192, size="both").copy_memory()

    at_quarter = pyvips.Image.jpegload_buffer(source, shrink=4).thumbnail_image(
        800, height=8192, size="both"
    )
    libvips_own = pyvips.Image.thumbnail_buffer(source, 800, height=8192, size="both").copy_memory()
    assert (ours.width, ours.height) == (800, 533)
    assert (ours - at_quarter).abs().max() == 0  # decoded at 1500 px, as imgproxy does
    assert (ours - libvips_own).abs().max() > 0  # not at 3000 px, as thumbnail does


def test_without_rotation_the_scale_follows_the_stored_pixels() -> None:
    # Stored 1500×6000, EXIF 6 (displayed 6000×1500); imgproxy's ar:0 asks for the stored
    # pixels forced to 1500×750: no axis shrinks by 2 or more horizontally, so no scale.
    noise = pyvips.Image.gaussnoise(1500, 6000, sigma=40, mean=128).cast("uchar")
    tagged = noise.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", 6)
    source = bytes(tagged.jpegsave_buffer(Q=90))
    options: dict[str, Any] = {"height": 750, "size": "force", "no_rotate": True}

    ours = thumbnail(source, 1500, **options).copy_memory()

    full = pyvips.Image.jpegload_buffer(source).thumbnail_image(1500, **options).copy_memory()
    assert (ours.width, ours.height) == (1500, 750)
    assert (ours - full).abs().max() == 0
