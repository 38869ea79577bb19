"""FakeImageProcessor: an ImageProcessor for unit tests that understands one toy format.

A "fake image" is ``b"FAKEIMG <width>x<height>\\n"`` followed by anything. Renditions
are fake images of the size the real processor would produce, so workflows and
services can be tested for geometry and error handling without libvips. It models the
``/img`` and ``image:thumbnail`` transforms (``width``/``height``, ``format``,
``quality``) with the real processor's geometry and limits; imgproxy processing and
``format_from_source`` are not modelled and are refused.
"""

from __future__ import annotations

import re

from vylux_core.errors import UnprocessableImage
from vylux_core.images.geometry import Size, output_size, plan_resize
from vylux_core.images.result_budget import ResultBudget
from vylux_core.ports.image_processor import ImageRendition, ImageTransform

_HEADER = re.compile(rb"FAKEIMG (\d+)x(\d+)\n")
# The real processor's texts for the same refusals.
_UNPROCESSABLE = "unprocessable source image"
_PIXEL_LIMIT = "image exceeds the pixel limit"


def fake_image(width: int, height: int) -> bytes:
    return b"FAKEIMG %dx%d\n" % (width, height)


class FakeImageProcessor:
    """``max_pixels`` (source width × height) is unlimited unless given; ``budget`` is
    the core's rendition budget, as the real processor applies it."""

    def __init__(
        self, *, max_pixels: int | None = None, budget: ResultBudget | None = None
    ) -> None:
        self.calls = 0
        self._max_pixels = max_pixels
        self._budget = budget if budget is not None else ResultBudget()

    async def transform(
        self, source: bytes | bytearray, transform: ImageTransform
    ) -> ImageRendition:
        self.calls += 1
        if transform.processing is not None or transform.format_from_source:
            raise ValueError(
                "FakeImageProcessor models neither imgproxy processing nor format_from_source"
            )
        match = _HEADER.match(source)
        if match is None:
            raise UnprocessableImage(_UNPROCESSABLE)
        src_w, src_h = int(match.group(1)), int(match.group(2))
        if src_w < 1 or src_h < 1:
            raise UnprocessableImage(_UNPROCESSABLE)
        if self._max_pixels is not None and src_w * src_h > self._max_pixels:
            raise UnprocessableImage(_PIXEL_LIMIT)
        size = output_size(Size(src_w, src_h), plan_resize(transform.width, transform.height))
        width, height = size.width, size.height
        self._budget.check_result(source=(src_w, src_h), result=(width, height))
        data = (
            fake_image(width, height)
            + f"{transform.format.extension} q{transform.quality}".encode()
        )
        return ImageRendition(data=data, format=transform.format, width=width, height=height)
