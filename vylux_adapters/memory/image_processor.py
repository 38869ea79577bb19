"""FakeImageProcessor: an ImageProcessor for unit tests that understands one toy format.

A "fake image" is ``b"FAKEIMG <width>x<height>\\n"`` followed by anything. Renditions
are fake images of the size the real processor would produce, so workflows and
services can be tested for geometry and error handling without libvips.
"""

from __future__ import annotations

import re

from vylux_core.errors import UnprocessableImage
from vylux_core.ports.image_processor import ImageRendition, ImageTransform

_HEADER = re.compile(rb"FAKEIMG (\d+)x(\d+)\n")


def fake_image(width: int, height: int) -> bytes:
    return b"FAKEIMG %dx%d\n" % (width, height)


class FakeImageProcessor:
    def __init__(self) -> None:
        self.calls = 0

    async def transform(
        self, source: bytes | bytearray, transform: ImageTransform
    ) -> ImageRendition:
        self.calls += 1
        match = _HEADER.match(source)
        if match is None:
            raise UnprocessableImage("unprocessable source image")
        src_w, src_h = int(match.group(1)), int(match.group(2))
        width, height = _target_size(src_w, src_h, transform.width, transform.height)
        data = (
            fake_image(width, height)
            + f"{transform.format.extension} q{transform.quality}".encode()
        )
        return ImageRendition(data=data, format=transform.format, width=width, height=height)


def _target_size(src_w: int, src_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width and height:
        return width, height  # cover crop fills the box exactly
    if width:
        return width, max(1, round(src_h * width / src_w))
    if height:
        return max(1, round(src_w * height / src_h)), height
    return src_w, src_h
