"""FFmpeg filters and tags that turn HDR (HLG, PQ) video into SDR BT.709 8-bit 4:2:0.

zscale linearises the source (its transfer stated explicitly, so a stream whose frames
carry no colour tags still converts), converts BT.2020 primaries to BT.709 in linear
light, ``tonemap`` compresses the highlights, and zscale applies the BT.709 transfer and
matrix. ``mobius`` keeps everything up to SDR reference white nearly linear and rolls off
only above it; on an HLG encode of an SDR test pattern it keeps mean luma within ~10 % of a
direct BT.709 encode of the same pattern, where ``hable`` darkens it by ~30 % (docs/media.md).
The filters need FFmpeg built with libzimg (``zscale``), which ``toolchain_check`` verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from vylux_core.media.dynamic_range import DynamicRange

# zscale's names for the transfers of DynamicRange.
_ZSCALE_TRANSFER: Final[Mapping[DynamicRange, str]] = {
    DynamicRange.HLG: "arib-std-b67",
    DynamicRange.PQ: "smpte2084",
}
# npl=100: linear 1.0 is 100 cd/m², the white level ``tonemap`` assumes.
_TONE_MAP: Final = (
    "zscale=tin={transfer}:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,"
    "zscale=p=bt709,tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
)
# Output tags of a tone-mapped encode: players then show it as the SDR it now is.
BT709_OUTPUT_ARGS: Final = (
    "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
    "-color_range", "tv",
)  # fmt: skip
# Filters the conversion needs (checked at worker start-up).
TONE_MAP_FILTERS: Final = ("zscale", "tonemap")


def tone_map_filter(dynamic_range: DynamicRange) -> str:
    """The filter chain to SDR BT.709 for ``dynamic_range``; empty for SDR sources."""
    transfer = _ZSCALE_TRANSFER.get(dynamic_range)
    return _TONE_MAP.format(transfer=transfer) if transfer else ""


def sdr_output_args(dynamic_range: DynamicRange) -> tuple[str, ...]:
    """BT.709 tags for a tone-mapped output; nothing for an SDR source (its own tags,
    BT.601 or BT.709, pass through unchanged)."""
    return BT709_OUTPUT_ARGS if dynamic_range.needs_tone_mapping else ()
