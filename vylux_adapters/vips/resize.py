"""Build the lazy libvips resize pipeline for one source (static or every frame)."""

from __future__ import annotations

from typing import Any

import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.probe import (
    TRANSPOSING_ORIENTATIONS,
    SourceInfo,
    sniff_loader,
    source_twin,
)
from vylux_core.images.geometry import ResizePlan, Size, cover_scaled_size, output_size

# pyvips images are untyped; this alias keeps ``Any`` inside the adapter.
VipsImage = Any


def resize_static(source: bytes | bytearray, plan: ResizePlan) -> VipsImage:
    """First page only, EXIF-rotated, via ``thumbnail_buffer``.

    ``thumbnail`` shrinks on load (JPEG DCT scaling, WebP/HEIF/TIFF pyramids) and
    streams, so memory stays near a few scanlines for any allowed source. Its box is
    in display orientation: it rotates first, then fits or crops.
    """
    options: dict[str, Any] = {
        "height": plan.box.height,
        "size": "both" if plan.upscale else "down",
        # No output_profile: it colour-manages every source, untagged ones included,
        # before the resize; ``colour.to_srgb`` converts only what needs it, afterwards.
    }
    if plan.cover:
        options["crop"] = "centre"
    return thumbnail(source, plan.box.width, **options)


def resize_animated(source: bytes | bytearray, info: SourceInfo, plan: ResizePlan) -> VipsImage:
    """Every frame, with the result's ``page-height`` set; see the module docstring of
    ``image_processor`` for the rules.

    libvips' ``thumbnail`` treats a multi-page image as one tall strip when rotating
    (the frames end up side by side) and cannot crop frames individually, so it only
    scales here, to an exact size (``size=force``) computed in stored orientation;
    rotation and the cover crop are then applied frame by frame.
    """
    final = output_size(info.display_size, plan)
    scaled = cover_scaled_size(info.display_size, plan.box) if plan.cover else final
    stored = scaled.transposed() if info.transposed else scaled
    strip = thumbnail(
        source,
        stored.width,
        height=stored.height,
        size="force",
        no_rotate=True,
        option_string="n=-1",
    )
    if scaled == final and info.orientation == 1:
        return strip  # thumbnail already set page-height
    frame_count = strip.height // stored.height
    frames = [
        _finish_frame(strip.crop(0, index * stored.height, stored.width, stored.height), final)
        for index in range(frame_count)
    ]
    # Frames are joined top to bottom in source order, so the sequential loader is
    # still read front to back.
    joined = pyvips.Image.arrayjoin(frames, across=1)
    return with_page_height(joined, final.height)


_JPEG_TWIN = "jpegload_source"


def thumbnail(source: bytes | bytearray, width: int, **options: Any) -> VipsImage:
    """``thumbnail_buffer``, reading ``source`` in place where its loader has a
    ``_source`` twin (see ``probe.source_twin``) instead of from a copy.

    ``thumbnail_source`` picks its loader itself; the loader it ran is checked to be
    the twin of the one the allow-list approved, before any pixel is decoded (libvips
    reads pixels only when the result is encoded). ``source`` must outlive the
    returned image: libvips reads it when the pipeline runs. JPEG sources are shrunk on
    load by this module instead (see ``jpeg_thumbnail``).
    """
    loader = sniff_loader(source)
    twin = source_twin(loader) if loader is not None else None
    if twin is None:
        return pyvips.Image.thumbnail_buffer(source, width, **options)
    if twin == _JPEG_TWIN and "option_string" not in options:
        return jpeg_thumbnail(source, width, **options)
    image = pyvips.Image.thumbnail_source(pyvips.Source.new_from_memory(source), width, **options)
    if image.get_typeof("vips-loader") == 0 or image.get("vips-loader") != twin:
        raise pyvips.Error(f"thumbnail_source did not run {twin}")
    return image


def jpeg_thumbnail(source: bytes | bytearray, width: int, **options: Any) -> VipsImage:
    """``thumbnail`` of a JPEG, decoded at the smallest DCT scale (1/2, 1/4, 1/8) that is
    still at least the thumbnail's size, then resized with ``thumbnail_image`` (the same
    Lanczos3 resize, rotation and crop as ``thumbnail``).

    libvips' own ``thumbnail`` keeps a factor of two above the target when it shrinks on
    load, so a 6000 px JPEG asked for 800 px is decoded at 3000 px, four times the pixels
    that imgproxy and Pillow (thumbor) decode at 1500 px. Decoding is most of a render's
    time; the resize from 1500 px still averages every output pixel over several source
    pixels, and ``bench/throughput.py`` checks the SSIM stays at the peers'.
    """
    header = pyvips.Image.jpegload_source(
        pyvips.Source.new_from_memory(source), access="sequential"
    )
    # With ``no_rotate`` thumbnail fits the stored pixels, not the displayed ones.
    size = _stored_size(header) if options.get("no_rotate") else _display_size(header)
    factor = jpeg_shrink(
        load_shrink(
            size,
            width,
            options.get("height", width),
            size=options.get("size", "both"),
            crop=options.get("crop", "none") != "none",
        )
    )
    image = pyvips.Image.jpegload_source(
        pyvips.Source.new_from_memory(source), access="sequential", shrink=factor
    )
    return image.thumbnail_image(width, **options)


def load_shrink(display: Size, width: int, height: int, *, size: str, crop: bool) -> float:
    """How much ``thumbnail`` shrinks ``display`` (libvips' rule: the larger of the two
    axis factors to fit, the smaller to crop or force; never below 1 unless upsizing)."""
    horizontal, vertical = display.width / width, display.height / height
    factor = min(horizontal, vertical) if crop or size == "force" else max(horizontal, vertical)
    return min(factor, 1.0) if size == "up" else max(factor, 1.0) if size == "down" else factor


def jpeg_shrink(factor: float) -> int:
    """The largest JPEG DCT scale that ``factor`` allows (as imgproxy chooses it)."""
    for shrink in (8, 4, 2):
        if factor >= shrink:
            return shrink
    return 1


def _stored_size(image: VipsImage) -> Size:
    return Size(int(image.width), int(image.height))


def _display_size(image: VipsImage) -> Size:
    size = _stored_size(image)
    orientation = int(image.get("orientation")) if image.get_typeof("orientation") else 1
    return size.transposed() if orientation in TRANSPOSING_ORIENTATIONS else size


def _finish_frame(frame: VipsImage, final: Size) -> VipsImage:
    # autorot reads the frame's own "orientation" (kept by no_rotate) and removes it.
    frame = frame.autorot()
    if frame.width == final.width and frame.height == final.height:
        return frame
    left = max(0, (frame.width - final.width) // 2)
    top = max(0, (frame.height - final.height) // 2)
    return frame.crop(left, top, final.width, final.height)


def with_page_height(image: VipsImage, page_height: int) -> VipsImage:
    # set_type mutates: take a private copy first (a copy shares the pixels).
    result = image.copy()
    result.set_type(pyvips.GValue.gint_type, "page-height", page_height)
    return result
