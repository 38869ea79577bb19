"""How large a rendition may be: a pixel budget and a maximum upscale factor.

Encoding cost follows the result's pixels, not the source's: a tiny PNG asked for
8192×8192 ties up a core for seconds (D7a). Both limits hold for ``/img`` and
``image:thumbnail`` and are checked before any pixel is decoded: the requested box
alone when both sides are known (a 400 / a refused job), otherwise against the
source's header (``UnprocessableImage``: a 422 / a permanent job failure).
"""

from __future__ import annotations

from attrs import field, frozen, validators

from vylux_core.errors import UnprocessableImage

DEFAULT_MAX_RESULT_PIXELS = 40_000_000
# Linear factor. 32 lets a 2×2 PNG at w64 give 64×64 (acceptance case I1) while a tiny
# source cannot fill the pixel budget.
DEFAULT_MAX_UPSCALE = 32


@frozen(kw_only=True)
class ResultBudget:
    """``max_result_pixels`` counts width × height × frames of one rendition;
    ``max_upscale`` bounds how many times wider or taller than the (EXIF-rotated)
    source a rendition may be, whichever axis is enlarged more."""

    max_result_pixels: int = field(
        default=DEFAULT_MAX_RESULT_PIXELS, validator=[validators.instance_of(int), validators.ge(1)]
    )
    max_upscale: int = field(
        default=DEFAULT_MAX_UPSCALE, validator=[validators.instance_of(int), validators.ge(1)]
    )

    def box_excess(self, width: int | None, height: int | None) -> str | None:
        """Why a requested ``width``×``height`` box is refused whatever the source
        (None: it is not, or a side is not given). The caller words the error."""
        if not width or not height or width * height <= self.max_result_pixels:
            return None
        return (
            f"{width}x{height} is {width * height} pixels, more than the result limit of "
            f"{self.max_result_pixels}"
        )

    def check_result(
        self,
        *,
        source: tuple[int, int],
        result: tuple[int, int],
        frames: int = 1,
    ) -> None:
        """Refuse a rendition of ``result`` (width, height) × ``frames`` made from a
        ``source`` of (width, height), both in display orientation."""
        pixels = result[0] * result[1] * frames
        if pixels > self.max_result_pixels:
            raise UnprocessableImage(
                f"result of {result[0]}x{result[1]}"
                + (f" x {frames} frames" if frames > 1 else "")
                + f" exceeds the result limit of {self.max_result_pixels} pixels"
            )
        if result[0] > source[0] * self.max_upscale or result[1] > source[1] * self.max_upscale:
            raise UnprocessableImage(
                f"enlarging {source[0]}x{source[1]} to {result[0]}x{result[1]} exceeds the "
                f"maximum upscale factor of {self.max_upscale}"
            )
