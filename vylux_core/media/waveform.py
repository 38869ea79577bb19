"""Waveform peaks of decoded audio: (min, max) per bin, normalised to [-1, 1].

The PCM (16-bit signed mono at :data:`WAVEFORM_SAMPLE_RATE`) streams in as chunks; memory
stays bounded whatever the length, because the accumulator keeps (min, max) per block of
samples and doubles the block size (merging neighbours) whenever the blocks would exceed
:data:`BLOCKS_PER_BIN` × 4 per bin. At the end the blocks are spread over the bins.
"""

from __future__ import annotations

import json
from array import array
from typing import Final

from attrs import frozen

# Peaks need no more: 8 kHz keeps everything below 4 kHz, and a bin of the widest
# waveform (10 000 bins) over one second still holds 0.8 samples' worth.
WAVEFORM_SAMPLE_RATE: Final = 8000
MIN_WAVEFORM_BINS: Final = 10
MAX_WAVEFORM_BINS: Final = 10_000
DEFAULT_WAVEFORM_BINS: Final = 1000
# Blocks per bin aimed for from the expected length; fewer make bin edges coarser.
BLOCKS_PER_BIN: Final = 8
_FULL_SCALE: Final = 32768.0
_DECIMALS: Final = 4


@frozen(kw_only=True)
class Waveform:
    """``peaks[i]`` is the (min, max) of bin ``i``; bins split ``duration`` evenly."""

    sample_rate: int
    duration: float
    peaks: tuple[tuple[float, float], ...]


class PeakAccumulator:
    """Feed signed 16-bit samples in order, then :meth:`finish`. ``expected_samples``
    (from the probed duration; 0 when unknown) only picks the first block size."""

    def __init__(self, *, bins: int, expected_samples: int, sample_rate: int) -> None:
        if bins < 1:
            raise ValueError("bins must be at least 1")
        self._bins = bins
        self._sample_rate = sample_rate
        self._block = max(1, expected_samples // (BLOCKS_PER_BIN * bins))
        self._limit = 4 * BLOCKS_PER_BIN * bins
        self._mins = array("h")
        self._maxs = array("h")
        # The block being filled: how many samples it holds, and their extremes.
        self._pending = 0
        self._pending_low = 0
        self._pending_high = 0
        self._count = 0

    @property
    def held_blocks(self) -> int:
        """How many (min, max) pairs are kept: at most 4 × BLOCKS_PER_BIN × bins."""
        return len(self._mins)

    def feed(self, samples: array[int]) -> None:
        self._count += len(samples)
        start = 0
        if self._pending:
            start = min(self._block - self._pending, len(samples))
            self._hold(samples[:start])
            if self._pending < self._block:
                return
            self._close_pending()
        block = self._block
        end = start + (len(samples) - start) // block * block
        if block == 1:
            self._mins.extend(samples[start:end])
            self._maxs.extend(samples[start:end])
        else:
            for offset in range(start, end, block):
                chunk = samples[offset : offset + block]
                self._mins.append(min(chunk))
                self._maxs.append(max(chunk))
        if end < len(samples):
            self._hold(samples[end:])
        while len(self._mins) > self._limit:
            self._coarsen()

    def finish(self) -> Waveform:
        if self._pending:
            self._close_pending()
        blocks = len(self._mins)
        peaks = []
        for index in range(self._bins):
            if blocks == 0:
                peaks.append((0.0, 0.0))
                continue
            # Fewer blocks than bins (a very short source): neighbouring bins share one.
            first = min(index * blocks // self._bins, blocks - 1)
            last = max(first + 1, (index + 1) * blocks // self._bins)
            low, high = min(self._mins[first:last]), max(self._maxs[first:last])
            peaks.append((_normalised(low), _normalised(high)))
        return Waveform(
            sample_rate=self._sample_rate,
            duration=round(self._count / self._sample_rate, 3),
            peaks=tuple(peaks),
        )

    def _hold(self, samples: array[int]) -> None:
        if not samples:
            return
        low, high = min(samples), max(samples)
        if self._pending:
            low, high = min(low, self._pending_low), max(high, self._pending_high)
        self._pending += len(samples)
        self._pending_low, self._pending_high = low, high

    def _close_pending(self) -> None:
        self._mins.append(self._pending_low)
        self._maxs.append(self._pending_high)
        self._pending = 0

    def _coarsen(self) -> None:
        # Pairs merge into blocks twice as long. An odd last block joins the pending
        # samples (which follow it) as the start of the next, longer block.
        odd = len(self._mins) % 2
        size = len(self._mins) - odd
        if odd:
            low, high = self._mins[-1], self._maxs[-1]
            if self._pending:
                low, high = min(low, self._pending_low), max(high, self._pending_high)
            self._pending += self._block
            self._pending_low, self._pending_high = low, high
        self._mins = array("h", map(min, self._mins[0:size:2], self._mins[1:size:2]))
        self._maxs = array("h", map(max, self._maxs[0:size:2], self._maxs[1:size:2]))
        self._block *= 2


def waveform_json(waveform: Waveform) -> str:
    """The ``waveform.json`` document: ``{"version": 1, "sample_rate", "duration",
    "bins", "peaks": [[min, max], …]}``."""
    document = {
        "version": 1,
        "sample_rate": waveform.sample_rate,
        "duration": waveform.duration,
        "bins": len(waveform.peaks),
        "peaks": [list(pair) for pair in waveform.peaks],
    }
    return json.dumps(document, separators=(",", ":"))


def _normalised(sample: int) -> float:
    return round(max(-1.0, sample / _FULL_SCALE), _DECIMALS)
