"""ImageInspector port: what a source image is, without producing a rendition."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen


@frozen(kw_only=True)
class ImageDescription:
    """Facts and placeholders of one source image (the imgproxy info endpoint).

    ``width``/``height`` as displayed (after EXIF rotation); ``format`` the source's
    format name (``jpeg``, ``png``, ``webp``, ``gif``, ``heif``, ``tiff`` …);
    ``delays`` the frame delays in milliseconds (empty for still images);
    ``blurhash`` and ``thumbhash`` (base64) are placeholders of the whole image and
    ``dominant_colour`` its most common colour, as ``#rrggbb``.
    """

    width: int
    height: int
    format: str
    frames: int
    delays: tuple[int, ...]
    orientation: int
    colour_space: str
    alpha: bool
    blurhash: str
    thumbhash: str
    dominant_colour: str


class ImageInspector(Protocol):
    async def describe(self, source: bytes | bytearray) -> ImageDescription:
        """Raises ``UnprocessableImage`` for input it cannot or will not decode (the
        same loader and pixel limits as rendering)."""
        ...
