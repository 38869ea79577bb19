"""Storyboard layout, WebVTT and JSON: pure functions of the duration and display size."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from vylux_core.media.storyboard import (
    MAX_TILES,
    plan_storyboard,
    storyboard_json,
    storyboard_vtt,
)

_CUE = re.compile(
    r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n"
    r"storyboard\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)"
)


def cues(vtt: str) -> list[tuple[float, float, tuple[int, int, int, int]]]:
    assert vtt.startswith("WEBVTT\n\n")
    found = []
    for match in _CUE.finditer(vtt):
        h1, m1, s1, ms1, h2, m2, s2, ms2, x, y, w, h = (int(g) for g in match.groups())
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        found.append((start, end, (x, y, w, h)))
    return found


@pytest.mark.parametrize(
    ("duration", "width", "height", "want_tiles", "want_interval"),
    [
        pytest.param(0.4, 320, 180, 1, 1.0, id="shorter-than-a-second"),
        pytest.param(12.52, 320, 180, 13, 1.0, id="one-a-second"),
        # Audio 20 ms past the last frame (at 6.96 s) adds no empty tile at 7 s.
        pytest.param(7.02, 320, 180, 7, 1.0, id="no-tile-past-the-last-frame"),
        pytest.param(7.0, 320, 180, 7, 1.0, id="last-frame-before-7s"),
        pytest.param(7.05, 320, 180, 8, 1.0, id="a-frame-at-7s"),
        pytest.param(100.0, 1920, 1080, 100, 1.0, id="exactly-100"),
        pytest.param(3600.0, 1920, 1080, MAX_TILES, 36.0, id="an-hour"),
        pytest.param(7200.5, 1080, 1920, MAX_TILES, 72.005, id="portrait-two-hours"),
    ],
)
def test_cues_cover_the_duration_without_gaps_inside_the_sprite(
    duration: float, width: int, height: int, want_tiles: int, want_interval: float
) -> None:
    layout = plan_storyboard(duration, width, height, 25.0)
    found = cues(storyboard_vtt(layout))

    assert (layout.count, layout.interval) == (want_tiles, pytest.approx(want_interval))
    assert len(found) == layout.count <= MAX_TILES
    assert found[0][0] == 0.0
    assert found[-1][1] == pytest.approx(duration, abs=0.001)
    for (_, end, _), (start, _, _) in itertools.pairwise(found):
        assert start == end  # back to back
    sprite = (layout.columns * layout.tile_width, layout.rows * layout.tile_height)
    for start, end, (x, y, w, h) in found:
        assert end > start
        assert (w, h) == (layout.tile_width, layout.tile_height)
        assert min(x, y) >= 0
        assert x + w <= sprite[0]
        assert y + h <= sprite[1]
    assert layout.tile_width == min(160, width)
    assert layout.tile_height % 2 == 0
    assert abs(layout.tile_height / layout.tile_width - height / width) < 0.02


def test_json_lists_the_same_tiles_as_the_vtt() -> None:
    layout = plan_storyboard(12.52, 320, 180, 25.0)
    document = json.loads(storyboard_json(layout))

    assert document["url"] == "storyboard.jpg"
    assert (document["tile_width"], document["tile_height"]) == (160, 90)
    assert document["duration"] == 12.52
    assert [(t["start"], (t["x"], t["y"])) for t in document["tiles"]] == [
        (start, (x, y)) for start, _, (x, y, _, _) in cues(storyboard_vtt(layout))
    ]


@pytest.mark.parametrize(
    ("duration", "width", "height", "fps"),
    [(0, 1, 1, 25), (1, 0, 1, 25), (-1, 1, 1, 25), (1, 1, 1, 0)],
)
def test_no_layout_without_duration_size_or_rate(
    duration: float, width: int, height: int, fps: float
) -> None:
    with pytest.raises(ValueError, match="positive duration, size and frame rate"):
        plan_storyboard(duration, width, height, fps)
