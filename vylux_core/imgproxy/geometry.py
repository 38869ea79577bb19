"""imgproxy's resize arithmetic, as its processing pipeline computes it.

Pure functions of the source's size and the options, so the result's size is known
(and checked against the result budget) before any pixel is decoded, and tests can
state the documented arithmetic without libvips. Sizes are in display orientation:
after EXIF auto-rotation and the ``rotate`` option.
"""

from __future__ import annotations

import math

from attrs import frozen

from vylux_core.images.geometry import Size
from vylux_core.imgproxy.options import (
    Gravity,
    GravityType,
    ProcessingOptions,
    ResizingType,
)


@frozen(kw_only=True)
class Geometry:
    """``scaled``: the whole source resized; ``crop``: the ``crop`` option's size in
    scaled pixels (None: no crop); ``result_crop``: the box the resized image is then
    cropped to (by gravity); ``extend``: the canvas it is embedded in (None: none);
    ``padding``: (top, right, bottom, left) in output pixels; ``final``: output size.
    ``extend_aspect_ratio`` also lands in ``extend`` (its gravity is the pipeline's to pick)."""

    scaled: Size
    crop: Size | None
    result_crop: Size
    extend: Size | None
    padding: tuple[int, int, int, int]
    final: Size


def scale_length(length: float, scale: float) -> int:
    """imgproxy's ``imath.Scale``: 0 stays 0, anything else rounds to at least 1."""
    if length == 0:
        return 0
    return max(1, go_round(length * scale))


def go_round(value: float) -> int:
    """Go's ``math.Round`` for the non-negative sizes here: halves round up (Python's
    ``round`` rounds them to even, 112.5 → 112 where imgproxy says 113)."""
    return math.floor(value + 0.5)


def crop_length(source: int, requested: float) -> int:
    """A ``crop`` side: 0 means the whole side, below 1 a share of it."""
    if requested <= 0:
        return source
    if requested < 1:
        return max(1, round(source * requested))
    return min(source, round(requested))


def calc_scale(width: int, height: int, po: ProcessingOptions) -> tuple[float, float]:
    """imgproxy's ``calcScale``: horizontal and vertical scale factors."""
    src_w, src_h = float(width), float(height)
    dst_w = float(po.width) if po.width else src_w
    dst_h = float(po.height) if po.height else src_h
    wshrink = 1.0 if dst_w == src_w else src_w / dst_w
    hshrink = 1.0 if dst_h == src_h else src_h / dst_h
    if wshrink != 1 or hshrink != 1:
        kind = po.resizing_type
        if kind is ResizingType.AUTO:
            same = (src_w - src_h >= 0) == (dst_w - dst_h >= 0)
            kind = ResizingType.FILL if same else ResizingType.FIT
        if po.width == 0 and kind is not ResizingType.FORCE:
            wshrink = hshrink
        elif po.height == 0 and kind is not ResizingType.FORCE:
            hshrink = wshrink
        elif kind is ResizingType.FIT:
            wshrink = hshrink = max(wshrink, hshrink)
        elif kind in (ResizingType.FILL, ResizingType.FILL_DOWN):
            wshrink = hshrink = min(wshrink, hshrink)
    wshrink /= po.zoom_x
    hshrink /= po.zoom_y
    if not po.enlarge:
        if wshrink < 1:
            hshrink /= wshrink
            wshrink = 1
        if hshrink < 1:
            wshrink /= hshrink
            hshrink = 1
    if po.min_width > 0:
        min_shrink = src_w / po.min_width
        if min_shrink < wshrink:
            hshrink /= wshrink / min_shrink
            wshrink = min_shrink
    if po.min_height > 0:
        min_shrink = src_h / po.min_height
        if min_shrink < hshrink:
            wshrink /= hshrink / min_shrink
            hshrink = min_shrink
    wshrink /= po.dpr
    hshrink /= po.dpr
    wshrink = min(wshrink, src_w)
    hshrink = min(hshrink, src_h)
    return 1.0 / wshrink, 1.0 / hshrink


def plan_geometry(source: Size, po: ProcessingOptions) -> Geometry:
    """Every size of the pipeline for a source of ``source`` (display orientation)."""
    width, height = source.width, source.height
    crop: Size | None = None
    if po.crop is not None:
        width = crop_length(width, po.crop.width)
        height = crop_length(height, po.crop.height)
    wscale, hscale = calc_scale(width, height, po)
    if po.crop is not None:
        crop = Size(scale_length(width, wscale), scale_length(height, hscale))
    scaled = Size(scale_length(source.width, wscale), scale_length(source.height, hscale))
    current = crop if crop is not None else scaled
    target_w = scale_length(po.width, po.dpr * po.zoom_x)
    target_h = scale_length(po.height, po.dpr * po.zoom_y)
    result_w, result_h = target_w, target_h
    if po.resizing_type is ResizingType.FILL_DOWN and not po.enlarge and target_w and target_h:
        diff_w = target_w / current.width
        diff_h = target_h / current.height
        if diff_w > diff_h and diff_w > 1:
            result_w = current.width
            result_h = scale_length(current.width, target_h / target_w)
        elif diff_h > diff_w and diff_h > 1:
            result_h = current.height
            result_w = scale_length(current.height, target_w / target_h)
    result_crop = Size(
        min(current.width, result_w) if result_w else current.width,
        min(current.height, result_h) if result_h else current.height,
    )
    out = result_crop
    extend: Size | None = None
    if po.extend:
        ext_w = scale_length(po.width, po.dpr)
        ext_h = scale_length(po.height, po.dpr)
        if ext_w > out.width or ext_h > out.height:
            extend = Size(max(ext_w, out.width), max(ext_h, out.height))
            out = extend
    if po.extend_aspect_ratio and po.width and po.height:
        ratio = po.width / po.height
        if out.width / out.height > ratio:
            wanted = Size(out.width, go_round(out.width / ratio))
        else:
            wanted = Size(go_round(out.height * ratio), out.height)
        if wanted != out:
            extend = wanted
            out = wanted
    pad = po.padding
    padding = (
        scale_length(pad.top, po.dpr),
        scale_length(pad.right, po.dpr),
        scale_length(pad.bottom, po.dpr),
        scale_length(pad.left, po.dpr),
    )
    final = Size(out.width + padding[1] + padding[3], out.height + padding[0] + padding[2])
    return Geometry(
        scaled=scaled, crop=crop, result_crop=result_crop, extend=extend, padding=padding,
        final=final,
    )  # fmt: skip


def position(outer: Size, inner: Size, gravity: Gravity, dpr: float = 1.0) -> tuple[int, int]:
    """Where ``inner`` goes in ``outer`` (left, top) by a compass or focal-point
    gravity, clamped inside (imgproxy's ``calcPosition`` without overflow). Smart
    gravity needs pixels: the adapter handles it and centres here."""
    free_w = outer.width - inner.width
    free_h = outer.height - inner.height
    kind = gravity.type
    if kind is GravityType.FOCUS_POINT:
        left = round(gravity.x * outer.width - inner.width / 2)
        top = round(gravity.y * outer.height - inner.height / 2)
        return _clamp(left, free_w), _clamp(top, free_h)
    off_x = _offset(gravity.x, free_w, dpr)
    off_y = _offset(gravity.y, free_h, dpr)
    left = free_w // 2 + off_x
    top = free_h // 2 + off_y
    if kind in (GravityType.NORTH, GravityType.NORTH_EAST, GravityType.NORTH_WEST):
        top = off_y
    if kind in (GravityType.SOUTH, GravityType.SOUTH_EAST, GravityType.SOUTH_WEST):
        top = free_h - off_y
    if kind in (GravityType.WEST, GravityType.NORTH_WEST, GravityType.SOUTH_WEST):
        left = off_x
    if kind in (GravityType.EAST, GravityType.NORTH_EAST, GravityType.SOUTH_EAST):
        left = free_w - off_x
    return _clamp(left, free_w), _clamp(top, free_h)


def _offset(value: float, free: int, dpr: float) -> int:
    if -1 < value < 1:
        return round(value * free)
    return round(value * dpr)


def _clamp(value: int, free: int) -> int:
    if free <= 0:
        return free // 2 if free < 0 else 0
    return max(0, min(free, value))
