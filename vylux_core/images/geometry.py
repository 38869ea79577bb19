"""Output geometry of an ``/img`` transform: which box to resize into and the size that
results, and :class:`Size`, the width × height every image geometry uses.

Pure arithmetic, so the pixel budget can be checked before any decoding and the
animated path can ask the image processor for an exact frame size.
"""

from __future__ import annotations

from attrs import frozen

from vylux_core.images.options import MAX_DIMENSION


@frozen
class Size:
    """A width × height in pixels."""

    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def transposed(self) -> Size:
        return Size(self.height, self.width)


@frozen(kw_only=True)
class ResizePlan:
    """``box`` is in display orientation (after EXIF rotation).

    ``cover``: scale to cover the box and centre-crop to exactly its size.
    Otherwise fit inside the box keeping the aspect ratio, enlarging only if ``upscale``.
    """

    box: Size
    cover: bool
    upscale: bool


def plan_resize(width: int | None, height: int | None) -> ResizePlan:
    """Map the requested ``w``/``h`` to a plan; every box side is at most MAX_DIMENSION.

    Values ≤ 0 count as absent and values above MAX_DIMENSION are clamped, so the plan
    stays bounded whatever the caller validated.
    """
    w = _clamp(width)
    h = _clamp(height)
    if w is not None and h is not None:
        return ResizePlan(box=Size(w, h), cover=True, upscale=True)
    if w is not None:
        return ResizePlan(box=Size(w, MAX_DIMENSION), cover=False, upscale=True)
    if h is not None:
        return ResizePlan(box=Size(MAX_DIMENSION, h), cover=False, upscale=True)
    # No resize: keep the source size, but still shrink anything beyond the cap.
    return ResizePlan(box=Size(MAX_DIMENSION, MAX_DIMENSION), cover=False, upscale=False)


def output_size(source: Size, plan: ResizePlan) -> Size:
    """Size of the result for a source of ``source`` (display orientation)."""
    if plan.cover:
        return plan.box
    scale = min(plan.box.width / source.width, plan.box.height / source.height)
    if not plan.upscale:
        scale = min(scale, 1.0)
    return Size(
        _scaled(source.width, scale, plan.box.width), _scaled(source.height, scale, plan.box.height)
    )


def cover_scaled_size(source: Size, box: Size) -> Size:
    """The size to scale to before centre-cropping to ``box`` (animated cover)."""
    scale = max(box.width / source.width, box.height / source.height)
    # int(x + 0.5) rounds halves up (round() would round them to even); max() guards
    # against a side landing one pixel short of the box, which would make the crop fail.
    return Size(
        max(box.width, int(source.width * scale + 0.5)),
        max(box.height, int(source.height * scale + 0.5)),
    )


def _scaled(length: int, scale: float, limit: int) -> int:
    return max(1, min(limit, round(length * scale)))


def _clamp(value: int | None) -> int | None:
    if value is None or value <= 0:
        return None
    return min(value, MAX_DIMENSION)
