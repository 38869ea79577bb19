"""Which sources are HDR, from the transfer characteristic their video stream declares.

The ladder, covers and previews are SDR BT.709 (8-bit 4:2:0); an HDR source shown
without conversion looks washed out (BT.2020 primaries read as BT.709, HLG/PQ code
values read as gamma). The decision is data here; the filter chain that converts is the
media adapter's.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


class DynamicRange(enum.Enum):
    SDR = "sdr"
    HLG = "hlg"  # ARIB STD-B67: iPhone HDR video, broadcast
    PQ = "pq"  # SMPTE ST 2084: HDR10, HDR10+, Dolby Vision profile 8.1 base layer

    @property
    def needs_tone_mapping(self) -> bool:
        return self is not DynamicRange.SDR


# FFmpeg's names for the transfer characteristics (``color_transfer`` in ffprobe's JSON).
# Dolby Vision profile 8 carries its base layer's transfer here (PQ for 8.1, HLG for 8.4).
_HDR_TRANSFERS: Final[Mapping[str, DynamicRange]] = {
    "arib-std-b67": DynamicRange.HLG,
    "smpte2084": DynamicRange.PQ,
}


def dynamic_range_of(color_transfer: str | None) -> DynamicRange:
    """HLG or PQ by the stream's transfer; anything else (unknown included) is SDR."""
    return _HDR_TRANSFERS.get(color_transfer or "", DynamicRange.SDR)
