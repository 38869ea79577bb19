"""ImageProcessor port: decode, resize and encode one image."""

from __future__ import annotations

from typing import Protocol

from attrs import field, frozen

from vylux_core.images.options import ImageFormat
from vylux_core.imgproxy.options import ProcessingOptions


@frozen(kw_only=True)
class ImageTransform:
    """``width``/``height`` None = not constrained; both set = cover crop to exactly
    that box; one set = fit keeping the aspect ratio; neither = re-encode only."""

    format: ImageFormat
    quality: int
    width: int | None = None
    height: int | None = None
    processing: ProcessingOptions | None = None
    """imgproxy's processing options: when set they decide the geometry and effects
    (``width``/``height`` are ignored) and ``quality`` is taken from them per format."""
    watermark: bytes | None = field(default=None, repr=False)
    """The configured watermark image's bytes, when ``processing.watermark`` asks for it."""
    format_from_source: bool = False
    """Answer in the source's format when it is one of ours (else PNG for sources with
    alpha, JPEG otherwise); ``format`` is then ignored."""

    @property
    def format_known_after(self) -> bool:
        """The output format is known only once rendered: taken from the source, or
        chosen by ``format:best`` or ``skip_processing``."""
        processing = self.processing
        return self.format_from_source or (
            processing is not None and (processing.best_format or bool(processing.skip_processing))
        )


@frozen(kw_only=True)
class ImageRendition:
    data: bytes
    format: ImageFormat
    width: int
    height: int


class ImageProcessor(Protocol):
    async def transform(
        self, source: bytes | bytearray, transform: ImageTransform
    ) -> ImageRendition:
        """Produce the rendition without blocking the event loop.

        Raises ``UnprocessableImage`` for input it cannot or will not decode
        (corrupt, too many pixels, blocked loader, animated to a static format) and
        ``ProcessingFailed`` when encoding fails.
        """
        ...
