"""Translating libvips failures into core errors at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyvips  # type: ignore[import-untyped]

from vylux_core.errors import ProcessingFailed

# The spec's exact texts (§5.1.4 step 9); the HTTP layer shows them to clients.
UNPROCESSABLE = "unprocessable source image"
PROCESSING_FAILED = "image processing failed"
ANIMATED_TO_STATIC = "animated image cannot be converted to static format (use webp or gif output)"
# Vylux's own source limits and loader allow-list (D107).
UNSUPPORTED_SOURCE = "unsupported source image type"
PIXEL_LIMIT = "image exceeds the pixel limit"
FRAME_LIMIT = "animated image exceeds frame limit"


@contextmanager
def vips_errors(error: type[ProcessingFailed], message: str) -> Iterator[None]:
    """Re-raise any ``pyvips.Error`` inside the block as ``error(message)``.

    libvips texts name internal buffers and loaders, so clients get the fixed message;
    the original stays on ``__cause__`` for logs.
    """
    try:
        yield
    except pyvips.Error as cause:
        raise error(message) from cause
