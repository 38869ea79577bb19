"""libvips reads a source in place (a ``_source`` loader on the caller's buffer), not
from a copy per call, and takes the shared ``bytearray`` the image service reads
sources into; the loader it runs is still the one the allow-list approved."""

from __future__ import annotations

import pytest
import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips import VipsLimits, transform_sync
from vylux_adapters.vips.probe import read_header, sniff_loader, source_twin
from vylux_adapters.vips.resize import thumbnail
from vylux_core.images.options import ImageFormat
from vylux_core.ports.image_processor import ImageTransform

SAVERS = [
    "jpegsave_buffer",
    "pngsave_buffer",
    "webpsave_buffer",
    "gifsave_buffer",
    "tiffsave_buffer",
]


def encoded(save: str) -> bytes:
    image = pyvips.Image.black(120, 80, bands=3).new_from_image([30, 120, 200]).cast("uchar")
    return bytes(getattr(image, save)())


@pytest.mark.parametrize("save", SAVERS)
def test_a_bytearray_source_renders_exactly_like_bytes(save: str) -> None:
    data = encoded(save)
    transform = ImageTransform(format=ImageFormat.PNG, quality=80, width=30)
    from_bytes = transform_sync(data, transform, VipsLimits())
    from_bytearray = transform_sync(bytearray(data), transform, VipsLimits())
    assert (from_bytearray.width, from_bytearray.height) == (30, 20)
    assert from_bytearray.data == from_bytes.data


@pytest.mark.parametrize("save", SAVERS)
def test_every_trusted_loader_reads_in_place_through_its_source_twin(save: str) -> None:
    data = bytearray(encoded(save))
    loader = sniff_loader(data)
    assert loader is not None
    assert loader.endswith("_buffer")
    twin = source_twin(loader)
    assert twin == loader.removesuffix("_buffer") + "_source"
    assert read_header(data, loader).width == 120
    assert thumbnail(data, 30).get("vips-loader") == twin


def test_a_loader_without_a_source_twin_is_reported_as_such() -> None:
    assert source_twin("no_such_loader_buffer") is None
