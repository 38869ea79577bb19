"""Build the lazy libvips resize pipeline for one source (static or every frame)."""

from __future__ import annotations

from typing import Any

import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.geometry import ResizePlan, Size, cover_scaled_size, output_size
from vylux_adapters.vips.probe import SourceInfo, sniff_loader, source_twin

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


def thumbnail(source: bytes | bytearray, width: int, **options: Any) -> VipsImage:
    """``thumbnail_buffer``, reading ``source`` in place where its loader has a
    ``_source`` twin (see ``probe.source_twin``) instead of from a copy.

    ``thumbnail_source`` picks its loader itself; the loader it ran is checked to be
    the twin of the one the allow-list approved, before any pixel is decoded (libvips
    reads pixels only when the result is encoded). ``source`` must outlive the
    returned image: libvips reads it when the pipeline runs.
    """
    loader = sniff_loader(source)
    twin = source_twin(loader) if loader is not None else None
    if twin is None:
        return pyvips.Image.thumbnail_buffer(source, width, **options)
    image = pyvips.Image.thumbnail_source(pyvips.Source.new_from_memory(source), width, **options)
    if image.get_typeof("vips-loader") == 0 or image.get("vips-loader") != twin:
        raise pyvips.Error(f"thumbnail_source did not run {twin}")
    return image


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
