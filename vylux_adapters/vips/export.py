"""Encode a libvips pipeline into one output format."""

from __future__ import annotations

from typing import Any

import pyvips  # type: ignore[import-untyped]

from vylux_core.images.options import ImageFormat

VipsImage = Any  # pyvips images are untyped

# libaom speed for AVIF: libvips' default effort 4 takes seconds for a noisy photo;
# effort 2 is several times faster for files ~15 % larger (docs/performance.md).
# Real-time /img requests cannot wait seconds per rendition.
AVIF_EFFORT = 2

_WHITE = 255.0


def encode(
    image: VipsImage, fmt: ImageFormat, quality: int, *, keep_profile: bool = False
) -> bytes:
    """Run the pipeline and return the encoded bytes.

    Animated images carry ``page-height`` in their metadata; webpsave and gifsave
    read it from there. ``quality`` is clamped to 1–100 for the lossy encoders (the
    worker passes the format default, which is 0 for png and gif) and ignored by png/gif/tiff.
    Every format leaves without EXIF, XMP, IPTC and comments; the ICC profile goes
    too unless ``keep_profile`` (see ``colour.to_srgb``).
    """
    q = min(100, max(1, quality))
    metadata = metadata_options(keep_profile=keep_profile)
    if fmt is ImageFormat.WEBP:
        data = image.webpsave_buffer(Q=q, **metadata)
    elif fmt is ImageFormat.AVIF:
        data = image.heifsave_buffer(Q=q, compression="av1", effort=AVIF_EFFORT, **metadata)
    elif fmt is ImageFormat.JPG:
        # Optimised Huffman tables: 5-10 % smaller files for one more pass over the
        # coefficients (imgproxy and thumbor's Pillow write them too).
        data = _flatten(image).jpegsave_buffer(Q=q, optimize_coding=True, **metadata)
    elif fmt is ImageFormat.PNG:
        data = image.pngsave_buffer(**metadata)
    elif fmt is ImageFormat.TIFF:
        # Lossless and readable everywhere; libvips' default writes no compression.
        data = _unoriented(image).tiffsave_buffer(compression="deflate", **metadata)
    else:
        data = image.gifsave_buffer(**metadata)
    return bytes(data)


def _unoriented(image: VipsImage) -> VipsImage:
    """Orientation is a TIFF tag, not metadata that ``keep`` drops: without this the
    source's EXIF orientation would rotate the (already upright) pixels again."""
    if image.get_typeof("orientation") == 0:
        return image
    image = image.copy()
    image.remove("orientation")
    return image


def _flatten(image: VipsImage) -> VipsImage:
    """JPEG has no alpha: composite onto white, not libvips' default black."""
    if not image.hasalpha():
        return image
    # thumbnail always delivers 8-bit sRGB/B-W, so 255 is both white and full alpha.
    return image.flatten(background=[_WHITE] * (image.bands - 1))


def metadata_options(*, keep_profile: bool = False) -> dict[str, Any]:
    """Saver options that drop EXIF (GPS, camera serials), XMP, IPTC and the rest.

    ``keep`` replaced ``strip`` in libvips 8.15; ``strip`` cannot keep the profile alone.
    """
    if pyvips.at_least_libvips(8, 15):
        return {"keep": "icc" if keep_profile else "none"}
    return {} if keep_profile else {"strip": True}
