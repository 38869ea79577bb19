"""Argument building for the input formats of docs/media.md: constant-rate renditions,
HDR detection and tone mapping, and the ffmpeg capability check's listing parsers."""

from __future__ import annotations

import pytest

from vylux_adapters.media.capabilities import (
    coder_names,
    filter_names,
    missing_capabilities,
)
from vylux_adapters.media.colour import BT709_OUTPUT_ARGS, sdr_output_args, tone_map_filter
from vylux_adapters.media.ffmpeg_args import constant_rate_args, encode_group_args
from vylux_core.media.dynamic_range import DynamicRange, dynamic_range_of
from vylux_core.media.ladder import VideoCodec, resolve_ladder


@pytest.mark.parametrize(
    ("fps", "rate"),
    [(25.0, "25"), (30000 / 1001, "30000/1001"), (24000 / 1001, "24000/1001"), (12.5, "25/2")],
)
def test_constant_rate_args_write_the_nearest_ratio(fps: float, rate: str) -> None:
    assert constant_rate_args(fps) == ("-fps_mode", "cfr", "-r", rate)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan"), float("inf")])
def test_constant_rate_args_refuse_invalid_rates(fps: float) -> None:
    with pytest.raises(ValueError, match="invalid frame rate"):
        constant_rate_args(fps)


@pytest.mark.parametrize(
    ("transfer", "want"),
    [
        ("arib-std-b67", DynamicRange.HLG),
        ("smpte2084", DynamicRange.PQ),
        ("bt709", DynamicRange.SDR),
        ("smpte170m", DynamicRange.SDR),
        (None, DynamicRange.SDR),
        ("", DynamicRange.SDR),
    ],
)
def test_dynamic_range_from_the_transfer(transfer: str | None, want: DynamicRange) -> None:
    assert dynamic_range_of(transfer) is want


def test_sdr_sources_get_no_tone_map_and_keep_their_tags() -> None:
    assert (tone_map_filter(DynamicRange.SDR), sdr_output_args(DynamicRange.SDR)) == ("", ())


@pytest.mark.parametrize(
    ("dynamic_range", "transfer"),
    [(DynamicRange.HLG, "arib-std-b67"), (DynamicRange.PQ, "smpte2084")],
)
def test_hdr_tone_map_states_the_source_transfer(
    dynamic_range: DynamicRange, transfer: str
) -> None:
    chain = tone_map_filter(dynamic_range)

    assert chain.startswith(f"zscale=tin={transfer}:pin=bt2020:min=bt2020nc:t=linear")
    assert chain.endswith("zscale=t=bt709:m=bt709:r=tv,format=yuv420p")
    assert sdr_output_args(dynamic_range) == BT709_OUTPUT_ARGS


def test_tone_map_runs_once_before_the_split_and_tags_every_output() -> None:
    variants = resolve_ladder(1920, 1080, codecs=(VideoCodec.H264,))[:2]
    chain = tone_map_filter(DynamicRange.HLG)

    args = encode_group_args(
        "in.mov", variants, "enc", 25.0, source_filter=chain, output_args=BT709_OUTPUT_ARGS
    )

    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith(f"[0:v:0]{chain},split=2[vsrc0][vsrc1];")
    assert graph.count("zscale=tin=") == 1
    outputs = [index for index, arg in enumerate(args) if arg.startswith("enc/")]
    for start, end in zip([0, *outputs], outputs, strict=False):
        assert "-color_trc" in args[start:end]


def test_single_variant_tone_map_goes_in_front_of_the_scale() -> None:
    only = resolve_ladder(640, 360, codecs=(VideoCodec.AV1,))[:1]
    chain = tone_map_filter(DynamicRange.PQ)

    args = encode_group_args("in.mkv", only, "enc", 25.0, source_filter=chain)

    assert args[args.index("-vf") + 1] == f"{chain},scale=640:360,setsar=1"


DECODERS = """Decoders:
 V..... = Video
 A..... = Audio
 ------
 V....D av1                  Alliance for Open Media AV1
 V..... libdav1d             dav1d AV1 decoder by VideoLAN (codec av1)
 VFS..D h264                 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10
 VFS..D hevc                 HEVC (High Efficiency Video Coding)
 A....D aac                  AAC (Advanced Audio Coding)
 A....D mp3float             MP3 (MPEG audio layer 3) (codec mp3)
"""
ENCODERS = """Encoders:
 V..... = Video
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 A....D aac                  AAC (Advanced Audio Coding)
"""
# FFmpeg 7 prints no "------" line in -filters; FFmpeg 9 does.
FILTERS_7 = """Filters:
  T.. = Timeline support
  A = Audio input/output
 ... palettegen        V->V       Find the optimal palette for a given stream.
 .SC zscale            V->V       Apply resizing, colorspace and bit depth conversion.
"""
FILTERS_9 = """Filters:
  T.. = Timeline support
  ------
 .. palettegen        V->V       Find the optimal palette for a given stream.
 .S tonemap           V->V       Conversion to/from different dynamic ranges.
"""


def test_listing_parsers_read_names_not_the_legend() -> None:
    assert coder_names(DECODERS, "A") == {"aac", "mp3float"}
    assert coder_names(ENCODERS, "V") == {"libx264"}
    assert filter_names(FILTERS_7) == {"palettegen", "zscale"}
    assert filter_names(FILTERS_9) == {"palettegen", "tonemap"}


def test_missing_capabilities_name_each_gap() -> None:
    missing = missing_capabilities(DECODERS, ENCODERS, FILTERS_9)

    assert "decoder av1" not in missing  # libdav1d
    assert missing[:2] == ["decoder vp8", "decoder vp9"]
    assert "decoder mp3" in missing  # mp3float is not the mp3 decoder by name
    assert {"encoder libsvtav1", "encoder mjpeg", "filter zscale"} <= set(missing)
    assert "encoder libx264" not in missing
