"""VipsLimits: what the adapter refuses to decode, checked from the header alone."""

from __future__ import annotations

from attrs import field, frozen, validators

from vylux_adapters.vips.errors import (
    ANIMATED_TO_STATIC,
    FRAME_LIMIT,
    PIXEL_LIMIT,
    UNSUPPORTED_SOURCE,
)
from vylux_core.errors import UnprocessableImage
from vylux_core.images.limits import DEFAULT_MAX_SOURCE_PIXELS
from vylux_core.images.result_budget import ResultBudget

DEFAULT_MAX_PIXELS = DEFAULT_MAX_SOURCE_PIXELS
DEFAULT_MAX_FRAMES = 200  # the documented /img frame limit

# libvips loader nicknames (as ``vips-loader`` reports them) for the formats the
# service is meant to take. Everything else (SVG through librsvg, and whatever a
# future libvips build adds: PDF, ImageMagick, FITS, ...) is refused unless the
# operator opts in. ``uhdrload`` is libvips 8.18's loader for JPEGs with an
# Ultra HDR gain map: those are still JPEGs.
TRUSTED_LOADERS = frozenset(
    {
        "jpegload_buffer",
        "uhdrload_buffer",
        "pngload_buffer",
        "webpload_buffer",
        "gifload_buffer",
        "heifload_buffer",
        "tiffload_buffer",
    }
)

_POSITIVE = [validators.instance_of(int), validators.ge(1)]


@frozen(kw_only=True)
class VipsLimits:
    """``max_pixels`` bounds the decoded source (width × height × frames),
    ``max_frames`` the page count and ``budget`` the produced rendition."""

    max_pixels: int = field(default=DEFAULT_MAX_PIXELS, validator=_POSITIVE)
    max_frames: int = field(default=DEFAULT_MAX_FRAMES, validator=_POSITIVE)
    allow_untrusted_loaders: bool = False
    budget: ResultBudget = field(factory=ResultBudget)

    def check_loader(self, loader: str) -> None:
        if loader not in TRUSTED_LOADERS and not self.allow_untrusted_loaders:
            raise UnprocessableImage(UNSUPPORTED_SOURCE)

    def check_pages(self, pages: int, *, animatable_output: bool) -> None:
        # Spec order: the animated→static rejection wins over the frame limit.
        if pages > 1 and not animatable_output:
            raise UnprocessableImage(ANIMATED_TO_STATIC)
        if pages > self.max_frames:
            raise UnprocessableImage(FRAME_LIMIT)

    def check_source_pixels(self, pixels: int) -> None:
        if pixels > self.max_pixels:
            raise UnprocessableImage(PIXEL_LIMIT)
