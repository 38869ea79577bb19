"""Colour handling of renditions: sRGB out, no embedded profile.

Every output leaves without its ICC profile (the encoders drop all metadata), so its
pixels must already be sRGB, which is what browsers assume for untagged images.
Colour management costs throughput (an ICC transform of every pixel), so only
sources whose embedded profile is *not* sRGB are converted: untagged and sRGB-tagged
sources pass through untouched. The conversion runs on the resized image, so it
costs output pixels, not source pixels.

A profile libvips refuses to build a transform from is kept on the output instead
(dropping it would silently change the colours); libvips ignores an embedded
profile that does not fit the image (a CMYK profile on RGB pixels, say) and reads
the pixels as sRGB, so such a source is treated as untagged.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pyvips  # type: ignore[import-untyped]

VipsImage = Any  # pyvips images are untyped

ICC_FIELD = "icc-profile-data"

# sRGB's primaries as an ICC profile states them (XYZ, adapted to the D50 PCS).
_SRGB_COLORANTS = {
    b"rXYZ": (0.4361, 0.2225, 0.0139),
    b"gXYZ": (0.3851, 0.7169, 0.0971),
    b"bXYZ": (0.1431, 0.0606, 0.7141),
}
# Wide enough for the rounding of the many sRGB profiles in circulation (HP's, Apple's,
# Google's compact one, libvips' own), narrow enough to tell Display P3 or Adobe RGB.
_COLORANT_TOLERANCE = 0.005
# A TRC given as one gamma (or a parametric curve) counts as sRGB's ~2.2 curve
# only within this range; a linear (1.0) sRGB-primaries profile must be converted.
_SRGB_GAMMA = (2.1, 2.5)
_HEADER_BYTES = 132
_TAG_ENTRY_BYTES = 12


def is_srgb_profile(profile: bytes) -> bool:
    """True for an RGB display profile with sRGB's primaries and a ~2.2 tone curve.

    Reads the ICC tag table directly (no lcms): a profile without matrix colorants
    (LUT-based, CMYK, grey) or that does not parse counts as not sRGB, so it is
    converted, which is always correct, only slower.
    """
    try:
        if profile[16:20] != b"RGB ":
            return False
        tags = _tag_table(profile)
        for signature, expected in _SRGB_COLORANTS.items():
            found = _xyz(profile, tags.get(signature))
            if found is None or any(
                abs(a - b) > _COLORANT_TOLERANCE for a, b in zip(found, expected, strict=True)
            ):
                return False
        return all(_srgb_like_curve(profile, tags.get(trc)) for trc in (b"rTRC", b"gTRC", b"bTRC"))
    except (struct.error, IndexError, ValueError):
        return False


def to_srgb(image: VipsImage) -> tuple[VipsImage, bool]:
    """``image`` in sRGB, and whether its (unconvertible) profile must be kept.

    Untagged and sRGB-tagged images come back unchanged.
    """
    if not image.get_typeof(ICC_FIELD):
        return image, False
    if is_srgb_profile(bytes(image.get(ICC_FIELD))):
        return image, False
    try:
        # icc_transform builds its lcms transform here, so a profile it cannot use
        # fails now rather than during the encode.
        return image.icc_transform("srgb", embedded=True), False
    except pyvips.Error:
        return image, True


def _tag_table(profile: bytes) -> dict[bytes, tuple[int, int]]:
    (count,) = struct.unpack_from(">I", profile, 128)
    if count > (len(profile) - _HEADER_BYTES) // _TAG_ENTRY_BYTES:
        raise ValueError("truncated tag table")
    tags = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(
            ">4sII", profile, _HEADER_BYTES + _TAG_ENTRY_BYTES * index
        )
        tags[signature] = (offset, size)
    return tags


def _xyz(profile: bytes, entry: tuple[int, int] | None) -> tuple[float, float, float] | None:
    if entry is None:
        return None
    offset, _ = entry
    if profile[offset : offset + 4] != b"XYZ ":
        return None
    x, y, z = struct.unpack_from(">iii", profile, offset + 8)
    return x / 65536, y / 65536, z / 65536


def _srgb_like_curve(profile: bytes, entry: tuple[int, int] | None) -> bool:
    if entry is None:
        return False
    offset, _ = entry
    kind = profile[offset : offset + 4]
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", profile, offset + 8)
        if count in (0, 2):
            return False  # identity or a straight line: linear light
        if count == 1:
            (gamma,) = struct.unpack_from(">H", profile, offset + 12)
            return _srgb_gamma(int(gamma) / 256)
        # A sampled curve: sRGB profiles ship sRGB's curve as a table.
        return True
    if kind == b"para":
        (gamma,) = struct.unpack_from(">i", profile, offset + 12)
        return _srgb_gamma(int(gamma) / 65536)
    return False


def _srgb_gamma(gamma: float) -> bool:
    return _SRGB_GAMMA[0] <= gamma <= _SRGB_GAMMA[1]


def convert_jpeg_file_to_srgb(path: Path, quality: int) -> None:
    """Re-encode the JPEG at ``path`` as sRGB without metadata if it carries an ICC
    profile; a file without one (every video frame) is left as it is.

    ``pyvips.Error`` propagates: the caller knows which step this is.
    """
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    if not image.get_typeof(ICC_FIELD):
        return
    converted, keep_profile = to_srgb(image)
    keep = "icc" if keep_profile else "none"
    data = bytes(converted.jpegsave_buffer(Q=quality, keep=keep))
    path.write_bytes(data)
