"""``audio:transcode`` options: strict decoding, the messages of bad input, the
canonical form."""

from __future__ import annotations

from typing import Any

import pytest

from vylux_core.errors import InvalidOptions
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import (
    AudioTranscodeOptions,
    WaveformOptions,
    canonical_options,
    decode_options,
)
from vylux_core.media.audio_renditions import AudioDownloadKind

A = JobType.AUDIO_TRANSCODE


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (None, AudioTranscodeOptions()),
        ({}, AudioTranscodeOptions()),
        ({"encrypt": True}, AudioTranscodeOptions(encrypt=True)),
        (
            {"downloads": ["flac", "mp3", "m4a"]},
            AudioTranscodeOptions(
                downloads=(AudioDownloadKind.MP3, AudioDownloadKind.M4A, AudioDownloadKind.FLAC)
            ),
        ),
        ({"waveform": {}}, AudioTranscodeOptions(waveform=WaveformOptions(bins=1000))),
        ({"waveform": {"bins": 10}}, AudioTranscodeOptions(waveform=WaveformOptions(bins=10))),
        (
            {"waveform": {"bins": 10_000}},
            AudioTranscodeOptions(waveform=WaveformOptions(bins=10_000)),
        ),
        ({"waveform": None, "downloads": None}, AudioTranscodeOptions()),
    ],
)
def test_valid_options_decode(raw: Any, want: AudioTranscodeOptions) -> None:
    assert decode_options(A, raw) == want


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"max_resolution": "1080p"}, 'unknown field "max_resolution" in options'),
        ({"storyboard": True}, 'unknown field "storyboard" in options'),
        ({"encrypt": "yes"}, "options.encrypt must be a boolean"),
        ({"downloads": "mp3"}, "options.downloads must be an array of strings"),
        ({"downloads": [1]}, "options.downloads must be an array of strings"),
        (
            {"downloads": ["wav"]},
            "options.downloads: unknown download 'wav' (one of mp3, m4a, flac)",
        ),
        (
            {"downloads": ["highest"]},
            "options.downloads: unknown download 'highest' (one of mp3, m4a, flac)",
        ),
        ({"downloads": ["mp3", "mp3"]}, "options.downloads lists a download twice"),
        (
            {"downloads": ["flac"], "encrypt": True},
            "options.downloads cannot be combined with encrypt",
        ),
        ({"waveform": True}, "options.waveform must be an object"),
        ({"waveform": 1000}, "options.waveform must be an object"),
        ({"waveform": {"peaks": 3}}, 'unknown field "peaks" in options.waveform'),
        ({"waveform": {"bins": "1000"}}, "options.waveform.bins must be an integer"),
        ({"waveform": {"bins": 1000.5}}, "options.waveform.bins must be an integer"),
        ({"waveform": {"bins": True}}, "options.waveform.bins must be an integer"),
        ({"waveform": {"bins": 9}}, "options.waveform.bins must be between 10 and 10000"),
        ({"waveform": {"bins": 10_001}}, "options.waveform.bins must be between 10 and 10000"),
        ([], "options must be an object"),
    ],
)
def test_invalid_options_name_the_field(raw: Any, message: str) -> None:
    with pytest.raises(InvalidOptions) as caught:
        decode_options(A, raw)
    assert str(caught.value) == f"invalid options: {message}"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ({}, {}),
        ({"encrypt": False}, {}),
        ({"encrypt": True}, {"encrypt": True}),
        ({"downloads": []}, {}),
        ({"downloads": ["flac", "mp3"]}, {"downloads": ["mp3", "flac"]}),
        ({"waveform": {}}, {"waveform": {"bins": 1000}}),
        ({"waveform": {"bins": 250}}, {"waveform": {"bins": 250}}),
    ],
)
def test_canonical_form_drops_defaults_and_orders_downloads(
    raw: dict[str, Any], canonical: dict[str, Any]
) -> None:
    assert canonical_options(decode_options(A, raw)) == canonical
