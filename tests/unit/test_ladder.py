"""Ladder selection and the FFmpeg / Shaka argv built from it (spec worker-and-storage §4.4)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_adapters.media.ffmpeg_args import (
    encode_audio_args,
    encode_group_args,
    fixed_gop_args,
    split_filter_graph,
    video_encoder_args,
)
from vylux_adapters.media.packager_args import PackagerEncryption, packager_args, redact_args
from vylux_core.media.ladder import (
    AUDIO_DIR,
    KEYFRAME_SECONDS,
    MAIN_AUDIO_TRACK,
    MAX_RESOLUTIONS,
    RUNGS,
    SEGMENT_SECONDS,
    SourceGeometry,
    Variant,
    VideoCodec,
    bandwidth_estimate,
    keyframe_interval_frames,
    normalize_rotation,
    resolve_ladder,
    variant_dir,
)

AV1, H264 = VideoCodec.AV1, VideoCodec.H264
KID = "00112233445566778899aabbccddeeff"
KEY = "0123456789abcdef0123456789abcdef"
KEY_URI = "https://media.example.com/api/key/abc?token=t"


def _sizes(variants: tuple[Variant, ...]) -> list[tuple[int, int, int]]:
    return [(v.rung, v.width, v.height) for v in variants]


# (rung, width, height) per resolved rung, descending.
LANDSCAPE_1080 = [(1080, 1920, 1080), (720, 1280, 720), (480, 854, 480), (360, 640, 360),
                  (240, 426, 240)]  # fmt: skip
PORTRAIT_1080 = [(1080, 1080, 1920), (720, 720, 1280), (480, 480, 854), (360, 360, 640),
                 (240, 240, 426)]  # fmt: skip
FOUR_THREE_1080 = [(1080, 1440, 1080), (720, 960, 720), (480, 640, 480), (360, 480, 360),
                   (240, 320, 240)]  # fmt: skip
UHD = [(2160, 3840, 2160), (1440, 2560, 1440), *LANDSCAPE_1080]


@pytest.mark.parametrize(
    ("source", "max_resolution", "want"),
    [
        pytest.param((1920, 1080), "1080p", LANDSCAPE_1080, id="1080p-all-rungs"),
        pytest.param((1080, 1920), "1080p", PORTRAIT_1080, id="portrait-full-size-turned-boxes"),
        pytest.param((360, 640), "1080p", [(360, 360, 640), (240, 240, 426)], id="small-portrait"),
        pytest.param(
            (1920, 800),
            "1080p",
            [
                (1080, 1920, 800),
                (720, 1280, 534),
                (480, 854, 356),
                (360, 640, 266),
                (240, 426, 178),
            ],
            id="scope-2.4-keeps-r1080-by-width",
        ),
        pytest.param(
            (1918, 1078),
            "1080p",
            [(1080, 1918, 1078), *LANDSCAPE_1080[1:]],
            id="just-under-1080-top-rung-is-source-size",
        ),
        pytest.param((3840, 2160), "1080p", LANDSCAPE_1080, id="4k-capped-at-1080-by-default"),
        pytest.param((320, 180), "1080p", [(240, 320, 180)], id="tiny-source-own-size-no-upscale"),
        pytest.param((1280, 720), "1080p", LANDSCAPE_1080[1:], id="720p-no-upscale"),
        pytest.param((640, 360), "1080p", [(360, 640, 360), (240, 426, 240)], id="small-landscape"),
        pytest.param((1440, 1080), "1080p", FOUR_THREE_1080, id="4-3-full-height"),
        pytest.param(
            (1080, 1080),
            "1080p",
            [
                (1080, 1080, 1080),
                (720, 720, 720),
                (480, 480, 480),
                (360, 360, 360),
                (240, 240, 240),
            ],
            id="square",
        ),
        pytest.param((3840, 2160), "2160p", UHD, id="4k-with-2160p"),
        pytest.param((3840, 2160), "1440p", UHD[1:], id="4k-with-1440p"),
        pytest.param((2560, 1440), "2160p", UHD[1:], id="1440p-source-no-upscale-to-2160"),
        pytest.param((1920, 1080), "2160p", LANDSCAPE_1080, id="1080p-source-ignores-2160p"),
        pytest.param(
            (2160, 3840),
            "2160p",
            [(r, h, w) for r, w, h in UHD],
            id="portrait-4k-with-2160p",
        ),
    ],
)
def test_resolve_ladder_worked_examples(
    source: tuple[int, int], max_resolution: str, want: list[tuple[int, int, int]]
) -> None:
    variants = resolve_ladder(*source, max_resolution=max_resolution)

    av1, h264 = variants[: len(want)], variants[len(want) :]
    assert _sizes(av1) == want
    assert _sizes(h264) == want
    assert [v.codec for v in variants] == [AV1] * len(want) + [H264] * len(want)
    assert [v.label for v in variants] == [f"r{r}_av1" for r, _, _ in want] + [
        f"r{r}_h264" for r, _, _ in want
    ]


@pytest.mark.parametrize(
    ("geometry", "want_top"),
    [
        pytest.param(SourceGeometry(1920, 1080, 90), (1080, 1080, 1920), id="rotated-phone-video"),
        pytest.param(SourceGeometry(1080, 1920, -90), (1080, 1920, 1080), id="rotated-back"),
        pytest.param(SourceGeometry(1920, 1080, 180), (1080, 1920, 1080), id="upside-down"),
    ],
)
def test_ladder_follows_displayed_orientation(
    geometry: SourceGeometry, want_top: tuple[int, int, int]
) -> None:
    variants = resolve_ladder(*geometry.display_size(), codecs=(H264,))

    assert _sizes(variants)[0] == want_top


@pytest.mark.parametrize(
    ("codecs", "want_labels"),
    [
        pytest.param((H264,), ["r360_h264", "r240_h264"], id="h264-only"),
        pytest.param(
            (H264, AV1),
            ["r360_h264", "r240_h264", "r360_av1", "r240_av1"],
            id="first-appearance-order",
        ),
        pytest.param((AV1, AV1), ["r360_av1", "r240_av1"], id="duplicates-dropped"),
    ],
)
def test_resolve_ladder_codec_order(codecs: tuple[VideoCodec, ...], want_labels: list[str]) -> None:
    assert [v.label for v in resolve_ladder(640, 360, codecs)] == want_labels


@pytest.mark.parametrize(
    ("width", "height", "codecs"),
    [
        pytest.param(0, 1080, (H264,), id="zero-width"),
        pytest.param(1920, -1, (H264,), id="negative-height"),
        pytest.param(1920, 1080, (), id="no-codecs"),
    ],
)
def test_resolve_ladder_rejects_bad_input(
    width: int, height: int, codecs: tuple[VideoCodec, ...]
) -> None:
    with pytest.raises(ValueError, match=r"invalid video dimensions|at least one codec"):
        resolve_ladder(width, height, codecs)


def test_resolve_ladder_rejects_unknown_max_resolution() -> None:
    with pytest.raises(ValueError, match="unknown max_resolution"):
        resolve_ladder(1920, 1080, max_resolution="4320p")


def test_rungs_carry_reference_crfs() -> None:
    crfs = {v.label: v.crf for v in resolve_ladder(3840, 2160, max_resolution="2160p")}

    assert crfs == {
        "r2160_av1": 26, "r1440_av1": 28,
        "r1080_av1": 30, "r720_av1": 32, "r480_av1": 34, "r360_av1": 36, "r240_av1": 38,
        "r2160_h264": 20, "r1440_h264": 21,
        "r1080_h264": 22, "r720_h264": 23, "r480_h264": 24, "r360_h264": 26, "r240_h264": 28,
    }  # fmt: skip


@given(
    width=st.integers(2, 8000),
    height=st.integers(2, 8000),
    max_resolution=st.sampled_from(sorted(MAX_RESOLUTIONS)),
)
def test_every_output_is_even_and_never_upscaled(
    width: int, height: int, max_resolution: str
) -> None:
    boxes = {rung.name: (rung.box_width, rung.box_height) for rung in RUNGS}
    variants = resolve_ladder(width, height, codecs=(H264,), max_resolution=max_resolution)

    assert variants, "every source gets at least one rung"
    assert [v.rung for v in variants] == sorted({v.rung for v in variants}, reverse=True)
    assert variants[0].rung <= MAX_RESOLUTIONS[max_resolution]
    for variant in variants:
        box_w, box_h = boxes[variant.rung]
        if height > width:  # portrait sources use the boxes turned a quarter
            box_w, box_h = box_h, box_w
        assert variant.width % 2 == 0
        assert variant.height % 2 == 0
        assert 2 <= variant.width <= min(width, box_w)
        assert 2 <= variant.height <= min(height, box_h)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        pytest.param(0, 0, id="zero"),
        pytest.param(90, 90, id="quarter"),
        pytest.param(-90, 270, id="negative-wraps"),
        pytest.param(270, 270, id="three-quarters"),
        pytest.param(-180, 180, id="negative-half"),
        pytest.param(360, 0, id="full-turn"),
        pytest.param(450, 90, id="beyond-full-turn"),
        pytest.param(45, 0, id="not-multiple-of-90"),
        pytest.param(89.6, 90, id="rounds-up"),
        pytest.param(89.5, 90, id="half-away-from-zero"),
        pytest.param(-89.5, 270, id="negative-half-away-from-zero"),
        pytest.param(math.nan, 0, id="nan"),
        pytest.param(math.inf, 0, id="inf"),
    ],
)
def test_normalize_rotation(value: float, want: int) -> None:
    assert normalize_rotation(value) == want


@pytest.mark.parametrize(
    ("geometry", "want"),
    [
        pytest.param(SourceGeometry(1920, 1080, -90), (1080, 1920), id="minus-90-swaps"),
        pytest.param(SourceGeometry(1920, 1080, 90), (1080, 1920), id="90-swaps"),
        pytest.param(SourceGeometry(1920, 1080, 180), (1920, 1080), id="180-keeps"),
        pytest.param(SourceGeometry(1920, 1080, 30), (1920, 1080), id="odd-angle-ignored"),
        pytest.param(SourceGeometry(1920, 1080), (1920, 1080), id="no-rotation"),
    ],
)
def test_display_size(geometry: SourceGeometry, want: tuple[int, int]) -> None:
    assert geometry.display_size() == want


@pytest.mark.parametrize(
    ("codec", "height", "want"),
    [
        pytest.param(H264, 1080, 5_000_000, id="portrait-608x1080-h264"),
        pytest.param(AV1, 1080, 3_000_000, id="1080-av1-60pct"),
        pytest.param(H264, 720, 2_500_000, id="720-h264"),
        pytest.param(H264, 534, 1_000_000, id="1280x534-counts-as-480"),
        pytest.param(AV1, 480, 600_000, id="480-av1"),
        pytest.param(H264, 360, 500_000, id="360-h264"),
        pytest.param(AV1, 240, 180_000, id="240-av1"),
        pytest.param(H264, 180, 200_000, id="320x180-floor"),
        pytest.param(AV1, 180, 120_000, id="floor-av1"),
    ],
)
def test_bandwidth_estimate(codec: VideoCodec, height: int, want: int) -> None:
    assert bandwidth_estimate(codec, height) == want


@pytest.mark.parametrize(
    ("source", "want"),
    [
        pytest.param((1080, 1920), 5_000_000, id="portrait-top-rung"),
        pytest.param((1920, 800), 2_500_000, id="scope-top-rung-1920x800"),
        pytest.param((320, 180), 200_000, id="fallback"),
    ],
)
def test_resolved_top_h264_rung_bandwidth(source: tuple[int, int], want: int) -> None:
    assert resolve_ladder(*source, codecs=(H264,))[0].bandwidth_estimate == want


@pytest.mark.parametrize(
    ("codec", "crf", "want"),
    [
        pytest.param(AV1, 30, ("-c:v", "libsvtav1", "-preset", "6", "-crf", "30",
                               "-pix_fmt", "yuv420p"), id="av1"),
        pytest.param(H264, 22, ("-c:v", "libx264", "-preset", "fast", "-crf", "22",
                                "-profile:v", "high", "-pix_fmt", "yuv420p"), id="h264"),
    ],
)  # fmt: skip
def test_encoder_args(codec: VideoCodec, crf: int, want: tuple[str, ...]) -> None:
    assert video_encoder_args(codec, crf) == want


@pytest.mark.parametrize(
    ("fps", "want"),
    [
        pytest.param(25.0, 50, id="pal"),
        pytest.param(30000 / 1001, 60, id="ntsc"),
        pytest.param(60.0, 120, id="60fps"),
        pytest.param(0.2, 1, id="slideshow-at-least-1"),
    ],
)
def test_keyframe_interval_frames(fps: float, want: int) -> None:
    assert keyframe_interval_frames(fps) == want


@pytest.mark.parametrize("fps", [0.0, -25.0, math.nan, math.inf])
def test_keyframe_interval_rejects_bad_fps(fps: float) -> None:
    with pytest.raises(ValueError, match="invalid frame rate"):
        keyframe_interval_frames(fps)


def test_segments_hold_whole_gops() -> None:
    assert SEGMENT_SECONDS % KEYFRAME_SECONDS == 0


@pytest.mark.parametrize(
    ("codec", "want"),
    [
        pytest.param(H264, ("-g", "50", "-keyint_min", "50", "-sc_threshold", "0"), id="x264"),
        pytest.param(AV1, ("-g", "50"), id="svtav1-only-g"),
    ],
)
def test_fixed_gop_args(codec: VideoCodec, want: tuple[str, ...]) -> None:
    assert fixed_gop_args(codec, 25.0) == want


def test_split_filter_graph_for_three_h264_variants() -> None:
    variants = resolve_ladder(1920, 1080, codecs=(H264,))[:3]

    assert split_filter_graph(variants) == (
        "[0:v:0]split=3[vsrc0][vsrc1][vsrc2];"
        "[vsrc0]scale=1920:1080,setsar=1[vout0];"
        "[vsrc1]scale=1280:720,setsar=1[vout1];"
        "[vsrc2]scale=854:480,setsar=1[vout2]"
    )


def test_encode_group_shares_one_decode() -> None:
    variants = resolve_ladder(1920, 1080, codecs=(H264,))[:3]

    args = encode_group_args("/tmp/in.mov", variants, "/tmp/enc", 25.0)

    gop = ["-fps_mode", "cfr", "-r", "25", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]
    h264 = ["-c:v", "libx264", "-preset", "fast", "-crf"]
    tail = ["-profile:v", "high", "-pix_fmt", "yuv420p"]
    assert args == [
        "-y", "-i", "/tmp/in.mov",
        "-filter_complex", split_filter_graph(variants),
        "-map", "[vout0]", "-an", *h264, "22", *tail, *gop,
        "-movflags", "+faststart", "/tmp/enc/r1080_h264.mp4",
        "-map", "[vout1]", "-an", *h264, "23", *tail, *gop,
        "-movflags", "+faststart", "/tmp/enc/r720_h264.mp4",
        "-map", "[vout2]", "-an", *h264, "24", *tail, *gop,
        "-movflags", "+faststart", "/tmp/enc/r480_h264.mp4",
    ]  # fmt: skip
    assert args.count("-i") == 1


def test_encode_single_variant_forces_square_pixels() -> None:
    r720 = resolve_ladder(1080, 1920, codecs=(H264,))[1]

    args = encode_group_args("in.mp4", [r720], "enc/", 30.0)

    assert args == [
        "-y", "-i", "in.mp4", "-map", "0:v:0", "-an",
        "-c:v", "libx264", "-preset", "fast", "-crf", "23",
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-fps_mode", "cfr", "-r", "30",
        "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
        "-vf", "scale=720:1280,setsar=1",
        "-movflags", "+faststart", "enc/r720_h264.mp4",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "variants",
    [
        pytest.param((), id="empty"),
        pytest.param(resolve_ladder(640, 360)[1:3], id="mixed-codecs"),
    ],
)
def test_encode_group_rejects_bad_groups(variants: tuple[Variant, ...]) -> None:
    with pytest.raises(ValueError, match=r"no variants|share a codec"):
        encode_group_args("in.mp4", variants, "enc", 25.0)


def test_encode_audio_args_downmix_to_stereo() -> None:
    assert encode_audio_args("in.mp4", "enc/und_aac_2ch.mp4") == [
        "-y", "-i", "in.mp4", "-map", "0:a:0", "-vn",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2",
        "-movflags", "+faststart", "enc/und_aac_2ch.mp4",
    ]  # fmt: skip


def test_audio_track_and_layout_constants() -> None:
    track = MAIN_AUDIO_TRACK
    assert (track.id, track.role, track.language) == ("und_aac_2ch", "main", "und")
    assert (track.codec, track.channels, track.bitrate) == ("aac", 2, 128_000)
    assert track.hls_name == "Main"
    assert (AUDIO_DIR, variant_dir("r720_h264")) == ("audio/und_aac_2ch", "video/r720_h264")


R720_H264 = resolve_ladder(1280, 720, codecs=(H264,))[:1]
ENCRYPTION = PackagerEncryption(key_id=KID, key=KEY, key_uri=KEY_URI)
AUDIO_DESCRIPTOR = (
    "in=/enc/und_aac_2ch.mp4,stream=audio,"
    "init_segment=/out/audio/und_aac_2ch/init.mp4,"
    "segment_template=/out/audio/und_aac_2ch/seg_$Number$.m4s,"
    "playlist_name=audio/und_aac_2ch/playlist.m3u8,hls_group_id=audio,hls_name=Main"
)
VIDEO_DESCRIPTOR = (
    "in=/enc/r720_h264.mp4,stream=video,"
    "init_segment=/out/video/r720_h264/init.mp4,"
    "segment_template=/out/video/r720_h264/seg_$Number$.m4s,"
    "playlist_name=video/r720_h264/playlist.m3u8,"
    "iframe_playlist_name=video/r720_h264/iframes.m3u8"
)
HLS_FLAGS = [
    "--hls_master_playlist_output", "/out/master.m3u8",
    "--hls_playlist_type", "VOD",
    "--mpd_output", "/out/manifest.mpd", "--generate_static_live_mpd",
    "--segment_duration", "6", "--fragment_duration", "6",
]  # fmt: skip


def test_packager_args_encrypted_split_tracks() -> None:
    args = packager_args("/enc", "/out", R720_H264, has_audio=True, encryption=ENCRYPTION)

    assert args == [
        AUDIO_DESCRIPTOR,
        VIDEO_DESCRIPTOR,
        *HLS_FLAGS,
        "--enable_raw_key_encryption",
        "--protection_scheme", "cbcs",
        "--clear_lead", "0",
        "--keys", f"label=:key_id={KID}:key={KEY}",
        "--protection_systems", "CommonSystem",
        "--hls_key_uri", KEY_URI,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("has_audio", "language", "want"),
    [
        pytest.param(True, "en", [AUDIO_DESCRIPTOR + ",lang=en", VIDEO_DESCRIPTOR, *HLS_FLAGS,
                                  "--default_language", "en"], id="explicit-language"),
        pytest.param(True, "und", [AUDIO_DESCRIPTOR, VIDEO_DESCRIPTOR, *HLS_FLAGS], id="und"),
        pytest.param(True, "", [AUDIO_DESCRIPTOR, VIDEO_DESCRIPTOR, *HLS_FLAGS], id="empty"),
        pytest.param(False, "en", [VIDEO_DESCRIPTOR, *HLS_FLAGS], id="no-audio-no-default"),
    ],
)  # fmt: skip
def test_packager_args_language(has_audio: bool, language: str, want: list[str]) -> None:
    assert packager_args("/enc", "/out", R720_H264, has_audio=has_audio, language=language) == want


@pytest.mark.parametrize(
    "encryption",
    [
        pytest.param(PackagerEncryption(key_id=KID, key="", key_uri=""), id="only-kid"),
        pytest.param(PackagerEncryption(key_id="", key=KEY, key_uri=KEY_URI), id="no-kid"),
        pytest.param(PackagerEncryption(key_id=KID, key=KEY, key_uri=""), id="no-uri"),
    ],
)
def test_packager_rejects_incomplete_encryption(encryption: PackagerEncryption) -> None:
    with pytest.raises(ValueError, match="incomplete encryption config"):
        packager_args("/enc", "/out", R720_H264, has_audio=True, encryption=encryption)


def test_packager_rejects_comma_in_directories() -> None:
    with pytest.raises(ValueError, match="must not contain ','"):
        packager_args("/enc,x", "/out", R720_H264, has_audio=False)


def test_encryption_repr_hides_key() -> None:
    assert KEY not in repr(ENCRYPTION)
    assert KID in repr(ENCRYPTION)


@pytest.mark.parametrize(
    ("args", "want"),
    [
        pytest.param(
            ["--keys", f"label=:key_id={KID}:key={KEY}", "--hls_key_uri", KEY_URI],
            ["--keys", f"label=:key_id={KID}:key=<redacted>", "--hls_key_uri", KEY_URI],
            id="separate-value",
        ),
        pytest.param(
            [f"--keys=key_id={KID}:key={KEY}"],
            [f"--keys=key_id={KID}:key=<redacted>"],
            id="equals-form",
        ),
        pytest.param(["in=a.mp4,key=x", "--keys"], ["in=a.mp4,key=x", "--keys"], id="untouched"),
    ],
)
def test_redact_args(args: list[str], want: list[str]) -> None:
    assert redact_args(args) == want


def test_redacted_packager_args_never_contain_the_key() -> None:
    args = packager_args("/enc", "/out", R720_H264, has_audio=True, encryption=ENCRYPTION)

    assert not any(KEY in arg for arg in redact_args(args))
