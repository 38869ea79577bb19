"""Encode a libvips pipeline into one output format (spec §5.1.6, export table)."""

from __future__ import annotations

from typing import Any

import pyvips  # type: ignore[import-untyped]

from vylux_core.image_options import ImageFormat

VipsImage = Any  # pyvips images are untyped

# libaom speed for AVIF: libvips' default effort 4 took 0.8 s for an 800×600 frame of a
# smooth photo and ~10 s for a noisy one on this hardware; effort 2 takes ~0.2 s / ~1 s
# for files ~15 % larger. Real-time /img requests cannot wait seconds per rendition.
AVIF_EFFORT = 2

_WHITE = 255.0


def encode(image: VipsImage, fmt: ImageFormat, quality: int) -> bytes:
    """Run the pipeline and return the encoded bytes.

    Animated images carry ``page-height`` in their metadata; webpsave and gifsave
    read it from there. ``quality`` is clamped to 1–100 for the lossy encoders (the
    worker passes the format default, which is 0 for png and gif) and ignored by png/gif.
    """
    q = min(100, max(1, quality))
    if fmt is ImageFormat.WEBP:
        data = image.webpsave_buffer(Q=q)
    elif fmt is ImageFormat.AVIF:
        data = image.heifsave_buffer(Q=q, compression="av1", effort=AVIF_EFFORT)
    elif fmt is ImageFormat.JPG:
        data = _flatten(image).jpegsave_buffer(Q=q, **_strip_all_metadata())
    elif fmt is ImageFormat.PNG:
        data = image.pngsave_buffer()
    else:
        data = image.gifsave_buffer()
    return bytes(data)


def _flatten(image: VipsImage) -> VipsImage:
    """JPEG has no alpha: composite onto white, not libvips' default black."""
    if not image.hasalpha():
        return image
    # thumbnail always delivers 8-bit sRGB/B-W, so 255 is both white and full alpha.
    return image.flatten(background=[_WHITE] * (image.bands - 1))


def _strip_all_metadata() -> dict[str, Any]:
    # EXIF (GPS, camera serials), XMP and ICC all go: the reference's "keep=none".
    # ``keep`` replaced ``strip`` in libvips 8.15.
    if pyvips.at_least_libvips(8, 15):
        return {"keep": "none"}
    return {"strip": True}
