"""Reading a storyboard back as a player would: its WebVTT cues, the sprite tiles they
point at, and how far each tile is from the frame shown at its cue's start.

Synchronous like :mod:`tests.support.media` (child processes, libvips); async tests
call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import pyvips  # type: ignore[import-untyped]
from attrs import frozen

from tests.support.media import TOOL_TIMEOUT_SECONDS

# Mean absolute difference (0-255, RGB) below which a tile counts as the frame grabbed at
# its cue's start. JPEG loss on testsrc2's fine detail gives about 7 for the right frame,
# a frame one second away about 20.
TILE_MAD_THRESHOLD = 12.0

_TIME = r"(\d{2}):(\d{2}):(\d{2})\.(\d{3})"
_CUE = re.compile(rf"^{_TIME} --> {_TIME}\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)$", re.MULTILINE)


@frozen
class Cue:
    start: float
    end: float
    image: str  # the cue text before `#xywh=`, relative to the VTT
    box: tuple[int, int, int, int]  # x, y, w, h


def parse_cues(vtt: str) -> list[Cue]:
    """Every cue of a thumbnails track; refuses a document that is not WebVTT."""
    if not vtt.startswith("WEBVTT"):
        raise ValueError("not a WebVTT document")
    cues = []
    for match in _CUE.finditer(vtt):
        numbers = [int(group) for group in match.groups()[:8]]
        start = _seconds(*numbers[:4])
        end = _seconds(*numbers[4:])
        box = tuple(int(group) for group in match.groups()[9:])
        cues.append(Cue(start, end, match.group(9), (box[0], box[1], box[2], box[3])))
    return cues


def coverage_problems(cues: list[Cue], duration: float, *, tolerance: float) -> list[str]:
    """What keeps ``cues`` from covering ``[0, duration]`` back to back (empty: nothing)."""
    problems = []
    if not cues:
        return ["no cues"]
    if cues[0].start != 0:
        problems.append(f"first cue starts at {cues[0].start}")
    for before, after in itertools.pairwise(cues):
        if after.start != before.end:
            problems.append(f"gap or overlap between {before.end} and {after.start}")
    if abs(cues[-1].end - duration) > tolerance:
        problems.append(f"last cue ends at {cues[-1].end}, the video at {duration}")
    problems += [f"empty cue at {cue.start}" for cue in cues if cue.end <= cue.start]
    return problems


def tile_differences(ffmpeg: str, source: Path, sprite: bytes, cues: list[Cue]) -> list[float]:
    """For each cue, the mean absolute difference between its tile and the source frame
    at its start, scaled to the tile's size. Raises when a box leaves the sprite."""
    image = pyvips.Image.new_from_buffer(sprite, "")
    differences = []
    for cue in cues:
        x, y, width, height = cue.box
        if x + width > image.width or y + height > image.height:
            raise ValueError(f"cue at {cue.start}: #xywh={cue.box} leaves the sprite")
        tile = image.crop(x, y, width, height)
        frame = grab_frame(ffmpeg, source, cue.start, width, height)
        differences.append((tile.cast("float") - frame.cast("float")).abs().avg())
    return differences


def grab_frame(ffmpeg: str, source: Path, seconds: float, width: int, height: int) -> Any:
    """The frame showing at ``seconds``, as an RGB image of ``width``×``height``."""
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-ss", f"{seconds:.3f}"]
    argv += ["-i", str(source), "-frames:v", "1"]
    argv += ["-vf", f"scale={width}:{height}:flags=bicubic"]
    argv += ["-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    raw = subprocess.run(argv, check=True, capture_output=True, timeout=TOOL_TIMEOUT_SECONDS)
    return pyvips.Image.new_from_memory(raw.stdout, width, height, 3, "uchar")


def _seconds(hours: int, minutes: int, seconds: int, millis: int) -> float:
    return hours * 3600 + minutes * 60 + seconds + millis / 1000
