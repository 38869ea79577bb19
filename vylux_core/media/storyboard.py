"""Storyboards (trick play): a sprite of evenly spaced frames, a WebVTT track whose cues
point into it with ``#xywh=`` fragments, and the same tiles as JSON (Mux's layout)."""

from __future__ import annotations

import json
import math
from typing import Final

from attrs import frozen

MAX_TILES: Final = 100
TILE_WIDTH: Final = 160
# Finer than one frame a second helps no scrubbing preview, and short clips stay small.
MIN_INTERVAL_SECONDS: Final = 1.0
MAX_COLUMNS: Final = 10

SPRITE_FILE: Final = "storyboard.jpg"
VTT_FILE: Final = "storyboard.vtt"
JSON_FILE: Final = "storyboard.json"


@frozen(kw_only=True)
class StoryboardLayout:
    """``count`` tiles of ``tile_width``×``tile_height`` in a ``columns``×``rows`` grid,
    row by row; tile ``i`` is the frame at ``i * interval`` and stands for
    ``[i * interval, min((i + 1) * interval, duration))``."""

    duration: float
    interval: float
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    def start(self, index: int) -> float:
        return index * self.interval

    def end(self, index: int) -> float:
        return self.duration if index == self.count - 1 else (index + 1) * self.interval

    def position(self, index: int) -> tuple[int, int]:
        return (index % self.columns) * self.tile_width, (index // self.columns) * self.tile_height


def plan_storyboard(
    duration: float, width: int, height: int, frame_rate: float
) -> StoryboardLayout:
    """The interval grows with the duration so that at most :data:`MAX_TILES` tiles
    cover it; tiles are :data:`TILE_WIDTH` wide (or the video's width, if narrower) with
    the display aspect ratio, heights even as encoders want them.

    A tile starts only where there is a frame to show: before the last frame's start
    (an audio track a little longer than the video must not add an empty tile)."""
    if duration <= 0 or width <= 0 or height <= 0 or frame_rate <= 0:
        raise ValueError("a storyboard needs a positive duration, size and frame rate")
    interval = max(MIN_INTERVAL_SECONDS, duration / MAX_TILES)
    last_frame = max(0.0, duration - 1 / frame_rate)
    count = max(1, min(MAX_TILES, math.floor(last_frame / interval) + 1))
    tile_width = min(TILE_WIDTH, width - width % 2)
    tile_height = max(2, round(tile_width * height / width / 2) * 2)
    columns = min(count, MAX_COLUMNS)
    return StoryboardLayout(
        duration=duration, interval=interval, count=count, columns=columns,
        rows=math.ceil(count / columns), tile_width=tile_width, tile_height=tile_height,
    )  # fmt: skip


def storyboard_vtt(layout: StoryboardLayout, sprite_url: str = SPRITE_FILE) -> str:
    """One cue per tile, back to back from 0 to the duration (no gaps)."""
    lines = ["WEBVTT", ""]
    for index in range(layout.count):
        x, y = layout.position(index)
        lines += [
            f"{_timestamp(layout.start(index))} --> {_timestamp(layout.end(index))}",
            f"{sprite_url}#xywh={x},{y},{layout.tile_width},{layout.tile_height}",
            "",
        ]
    return "\n".join(lines)


def storyboard_json(layout: StoryboardLayout, sprite_url: str = SPRITE_FILE) -> str:
    """Mux's storyboard JSON: the sprite, the tile size, the duration and each tile's
    start time and top-left corner."""
    tiles = []
    for index in range(layout.count):
        x, y = layout.position(index)
        tiles.append({"start": round(layout.start(index), 3), "x": x, "y": y})
    document = {
        "url": sprite_url,
        "tile_width": layout.tile_width,
        "tile_height": layout.tile_height,
        "duration": round(layout.duration, 3),
        "tiles": tiles,
    }
    return json.dumps(document, indent=2) + "\n"


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
