"""ImageInspector on libvips: header facts, BlurHash, ThumbHash and dominant colour.

The placeholders are computed from a small thumbnail (at most 100×100, what ThumbHash
takes; 32×32 for BlurHash), so their cost does not grow with the source. BlurHash
comes from the pure-Python ``blurhash`` package on PyPI; ThumbHash from a port of
its author's encoder (see ``thumbhash``).
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

import blurhash  # type: ignore[import-untyped]
import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.errors import UNPROCESSABLE, vips_errors
from vylux_adapters.vips.limits import VipsLimits
from vylux_adapters.vips.probe import ANIMATED_LOADERS, read_header, sniff_loader
from vylux_adapters.vips.resize import thumbnail
from vylux_adapters.vips.thumbhash import rgba_to_thumb_hash
from vylux_core.errors import UnprocessableImage
from vylux_core.ports.image_inspector import ImageDescription

VipsImage = Any  # pyvips images are untyped

# ThumbHash allows 100×100; 32×32 keeps the pure-Python encoder fast enough.
THUMBHASH_SIDE = 32
BLURHASH_SIDE = 32
BLURHASH_COMPONENTS = (4, 3)
_COLOUR_LEVELS = 8  # per channel, for the dominant-colour histogram


def describe_sync(source: bytes | bytearray, limits: VipsLimits) -> ImageDescription:
    loader = sniff_loader(source)
    if loader is None:
        raise UnprocessableImage(UNPROCESSABLE)
    limits.check_loader(loader)
    info = read_header(source, loader)
    limits.check_source_pixels(info.stored_size.pixels)
    with vips_errors(UnprocessableImage, UNPROCESSABLE):
        # Header only (pixels are read lazily): every frame's delay and the source's
        # own colour space, before the thumbnail converts it.
        pages = "n=-1" if loader in ANIMATED_LOADERS else ""
        header = pyvips.Image.new_from_source(
            pyvips.Source.new_from_memory(source), pages, access="sequential"
        )
        delays = _delays(header)
        colour_space = str(header.interpretation)
        alpha = bool(header.hasalpha())
        small = thumbnail(source, THUMBHASH_SIDE, height=THUMBHASH_SIDE)
        rgba = _rgba(small)
        width, height = int(rgba.width), int(rgba.height)
        pixels = bytes(rgba.write_to_memory())
        tiny = _rgba(thumbnail(source, BLURHASH_SIDE, height=BLURHASH_SIDE))
        tiny_pixels = bytes(tiny.write_to_memory())
    hash_bytes = rgba_to_thumb_hash(width, height, pixels)
    return ImageDescription(
        width=info.display_size.width,
        height=info.display_size.height,
        format=loader.split("load", 1)[0],
        frames=info.pages,
        delays=delays,
        orientation=info.orientation,
        colour_space=colour_space,
        alpha=alpha,
        blurhash=_blurhash(tiny_pixels, int(tiny.width), int(tiny.height)),
        thumbhash=base64.b64encode(hash_bytes).decode("ascii"),
        dominant_colour=_dominant(pixels),
    )


def _delays(image: VipsImage) -> tuple[int, ...]:
    if image.get_typeof("delay") == 0:
        return ()
    return tuple(int(delay) for delay in image.get("delay"))


def _rgba(image: VipsImage) -> VipsImage:
    """8-bit sRGB with alpha (opaque when the source has none)."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if image.bands < 3:
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.cast("uchar")


def _blurhash(rgba: bytes, width: int, height: int) -> str:
    rows = [
        [list(rgba[(y * width + x) * 4 : (y * width + x) * 4 + 3]) for x in range(width)]
        for y in range(height)
    ]
    return str(blurhash.encode(rows, *BLURHASH_COMPONENTS))


def _dominant(rgba: bytes) -> str:
    """The mean colour of the most common bucket of a coarse colour histogram,
    transparent pixels left out."""
    step = 256 // _COLOUR_LEVELS
    buckets: Counter[tuple[int, int, int]] = Counter()
    sums: dict[tuple[int, int, int], list[int]] = {}
    for index in range(0, len(rgba), 4):
        if rgba[index + 3] == 0:
            continue
        red, green, blue = rgba[index], rgba[index + 1], rgba[index + 2]
        bucket = (red // step, green // step, blue // step)
        buckets[bucket] += 1
        total = sums.setdefault(bucket, [0, 0, 0])
        total[0] += red
        total[1] += green
        total[2] += blue
    if not buckets:
        return "#000000"
    bucket, count = buckets.most_common(1)[0]
    red, green, blue = (round(channel / count) for channel in sums[bucket])
    return f"#{red:02x}{green:02x}{blue:02x}"
