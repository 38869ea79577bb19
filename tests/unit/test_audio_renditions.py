"""The argv of ``audio:transcode``: one decode for every encode, the packager's tree."""

from __future__ import annotations

import pytest

from vylux_adapters.media.ffmpeg_args import audio_encode_args, m4a_remux_args
from vylux_adapters.media.packager_args import PackagerEncryption, audio_packager_args
from vylux_core.media.audio_renditions import (
    AUDIO_RENDITIONS,
    AudioDownloadKind,
    audio_download_path,
)

MP3, M4A, FLAC = AudioDownloadKind.MP3, AudioDownloadKind.M4A, AudioDownloadKind.FLAC


def test_one_decode_writes_both_renditions_and_the_encoded_downloads() -> None:
    args = audio_encode_args("/w/source", "/w/enc", "/w/out", AUDIO_RENDITIONS, (MP3, M4A, FLAC))

    assert args.count("-i") == 1
    outputs = [arg for arg in args if arg.startswith("/w/") and arg != "/w/source"]
    # The M4A is no encode of its own: it is remuxed from the 128k rendition.
    assert outputs == [
        "/w/enc/aac_128k.mp4",
        "/w/enc/aac_64k.mp4",
        "/w/out/downloads/audio.mp3",
        "/w/out/downloads/audio.flac",
    ]
    assert args.count("-map") == 4
    assert args.count("0:a:0") == 4
    assert args[args.index("128k") - 1 : args.index("128k") + 3] == ["-b:a", "128k", "-ac", "2"]
    assert "libmp3lame" in args


@pytest.mark.parametrize(
    ("rate", "resampled"), [(0, False), (44100, False), (48000, False), (96000, True)]
)
def test_only_high_resolution_sources_are_resampled_for_the_renditions(
    rate: int, resampled: bool
) -> None:
    args = audio_encode_args("/s", "/e", "/o", AUDIO_RENDITIONS, (FLAC,), source_sample_rate=rate)
    assert args.count("-ar") == (2 if resampled else 0)  # the two renditions, not the FLAC
    if resampled:
        assert args[args.index("-ar") + 1] == "48000"


def test_no_renditions_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no audio renditions"):
        audio_encode_args("/s", "/e", "/o", ())


def test_m4a_is_a_faststart_copy_of_the_first_rendition() -> None:
    args = m4a_remux_args("/w/enc", "/w/out", AUDIO_RENDITIONS[0])
    assert args[args.index("-i") + 1] == "/w/enc/aac_128k.mp4"
    assert tuple(args[args.index("-c") : args.index("-c") + 2]) == ("-c", "copy")
    assert "+faststart" in args
    assert args[-1] == "/w/out/" + audio_download_path(M4A) == "/w/out/downloads/audio.m4a"


def test_packager_describes_every_rendition_in_one_hls_group_and_a_dash_manifest() -> None:
    args = audio_packager_args("/w/enc", "/w/out", AUDIO_RENDITIONS)
    descriptors = [arg for arg in args if arg.startswith("in=")]
    assert descriptors == [
        "in=/w/enc/aac_128k.mp4,stream=audio,init_segment=/w/out/aac_128k/init.mp4,"
        "segment_template=/w/out/aac_128k/seg_$Number$.m4s,"
        "playlist_name=aac_128k/playlist.m3u8,hls_group_id=audio,hls_name=128k",
        "in=/w/enc/aac_64k.mp4,stream=audio,init_segment=/w/out/aac_64k/init.mp4,"
        "segment_template=/w/out/aac_64k/seg_$Number$.m4s,"
        "playlist_name=aac_64k/playlist.m3u8,hls_group_id=audio,hls_name=64k",
    ]
    assert args[args.index("--hls_master_playlist_output") + 1] == "/w/out/master.m3u8"
    assert args[args.index("--mpd_output") + 1] == "/w/out/manifest.mpd"
    assert "--enable_raw_key_encryption" not in args


def test_encryption_is_the_video_transcodes() -> None:
    encryption = PackagerEncryption(key_id="a" * 32, key="b" * 32, key_uri="https://k/1")
    args = audio_packager_args("/w/enc", "/w/out", AUDIO_RENDITIONS, encryption=encryption)
    assert args[args.index("--protection_scheme") + 1] == "cbcs"
    assert args[args.index("--hls_key_uri") + 1] == "https://k/1"
    assert args[args.index("--clear_lead") + 1] == "0"


def test_a_comma_in_a_directory_is_refused() -> None:
    with pytest.raises(ValueError, match="','"):
        audio_packager_args("/w,x", "/w/out", AUDIO_RENDITIONS)
