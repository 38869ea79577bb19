"""Waveform peaks: exact bins, bounded memory whatever the length or the chunking."""

from __future__ import annotations

import json
import math
from array import array

import pytest

from vylux_core.media.waveform import BLOCKS_PER_BIN, PeakAccumulator, Waveform, waveform_json

RATE = 8000


def on_off(seconds: int, amplitude: int = 20_000) -> array[int]:
    """A 440 Hz tone in the even seconds, silence in the odd ones."""
    return array(
        "h",
        (
            round(amplitude * math.sin(2 * math.pi * 440 * i / RATE)) if (i // RATE) % 2 == 0 else 0
            for i in range(seconds * RATE)
        ),
    )


def accumulate(samples: array[int], *, bins: int, expected: int, chunk: int) -> Waveform:
    peaks = PeakAccumulator(bins=bins, expected_samples=expected, sample_rate=RATE)
    for start in range(0, len(samples), chunk):
        peaks.feed(samples[start : start + chunk])
    return peaks.finish()


@pytest.mark.parametrize("expected", [0, 6 * RATE, 100, 60 * RATE], ids=str)
@pytest.mark.parametrize("chunk", [1, 777, 32_768], ids=str)
def test_loud_and_silent_bins_follow_the_signal(expected: int, chunk: int) -> None:
    # Wrong or missing length estimates only change the block size, never the answer.
    waveform = accumulate(on_off(6), bins=60, expected=expected, chunk=chunk)

    assert len(waveform.peaks) == 60
    assert waveform.duration == 6.0
    for index, (low, high) in enumerate(waveform.peaks):
        if (index // 10) % 2 == 0:
            loud = pytest.approx(0.6104, abs=1e-3)
            assert (-low, high) == (loud, loud), index
        else:
            assert (low, high) == (0.0, 0.0), index


def test_memory_stays_bounded_on_a_long_input_of_unknown_length() -> None:
    peaks = PeakAccumulator(bins=10, expected_samples=0, sample_rate=RATE)
    second = array("h", [0] * RATE)
    for _ in range(3600):  # an hour
        peaks.feed(second)
    assert peaks.held_blocks <= 4 * BLOCKS_PER_BIN * 10
    waveform = peaks.finish()
    assert waveform.duration == 3600.0
    assert waveform.peaks == ((0.0, 0.0),) * 10


def test_a_short_input_spreads_its_samples_over_every_bin() -> None:
    waveform = accumulate(array("h", [-32768, 32767, 0]), bins=12, expected=3, chunk=2)

    assert len(waveform.peaks) == 12
    assert waveform.peaks[0] == (-1.0, -1.0)
    assert waveform.peaks[-1] == (0.0, 0.0)
    assert max(high for _, high in waveform.peaks) == 1.0


def test_no_samples_give_silent_bins() -> None:
    waveform = PeakAccumulator(bins=10, expected_samples=RATE, sample_rate=RATE).finish()
    assert waveform == Waveform(sample_rate=RATE, duration=0.0, peaks=((0.0, 0.0),) * 10)


def test_the_json_document() -> None:
    waveform = Waveform(sample_rate=RATE, duration=2.5, peaks=((-0.5, 0.25), (0.0, 0.0)))
    assert json.loads(waveform_json(waveform)) == {
        "version": 1,
        "sample_rate": RATE,
        "duration": 2.5,
        "bins": 2,
        "peaks": [[-0.5, 0.25], [0.0, 0.0]],
    }
