"""Progress of concurrent FFmpeg runs: parsing ``-progress`` output, one combined fraction."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Final

from vylux_core.ports.media_toolchain import ProgressCallback

MIN_INTERVAL_SECONDS: Final = 0.25
# The packager has no progress output; it gets the last slice and completes it at exit.
ENCODE_SHARE: Final = 0.95

# FFmpeg writes both keys in microseconds (out_time_ms is misnamed, kept for old builds).
_TIME_KEYS: Final = (b"out_time_us", b"out_time_ms")


class ProgressLines:
    """Splits ``-progress pipe:1`` output into ``key=value`` lines; reports seconds encoded."""

    def __init__(self, on_seconds: Callable[[float], None]) -> None:
        self._on_seconds = on_seconds
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            key, _, value = line.strip().partition(b"=")
            # "N/A" before the first packet; a later key of the same report may still parse.
            if key in _TIME_KEYS and value.isdigit():
                self._on_seconds(int(value) / 1_000_000)


class CombinedProgress:
    """A weighted average of named steps, sent upwards only, at most every ``min_interval``.

    Weights approximate each step's share of the CPU time, so the bar moves evenly although
    the steps run side by side at different speeds.
    """

    def __init__(
        self,
        *,
        callback: ProgressCallback,
        weights: Mapping[str, float],
        min_interval: float = MIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("progress weights must add up to more than 0")
        self._callback = callback
        self._shares = {step: ENCODE_SHARE * weight / total for step, weight in weights.items()}
        self._done = dict.fromkeys(weights, 0.0)
        self._min_interval = min_interval
        self._clock = clock
        self._sent = 0.0
        self._sent_at: float | None = None

    def step_seconds(self, step: str, duration_seconds: float) -> Callable[[float], None]:
        """A ``ProgressLines`` target turning a step's encoded seconds into its fraction."""

        def update(seconds: float) -> None:
            fraction = seconds / duration_seconds if duration_seconds > 0 else 0.0
            self.update(step, fraction)

        return update

    def update(self, step: str, fraction: float) -> None:
        self._done[step] = max(self._done[step], min(1.0, max(0.0, fraction)))
        value = sum(self._shares[name] * done for name, done in self._done.items())
        now = self._clock()
        if self._sent_at is not None and now - self._sent_at < self._min_interval:
            return
        self._send(value, now)

    def finish(self) -> None:
        self._send(1.0, self._clock())

    def _send(self, value: float, now: float) -> None:
        if value <= self._sent:
            return
        self._sent, self._sent_at = value, now
        self._callback(value)
