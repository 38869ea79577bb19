"""Text tracks embedded in a source, converted to WebVTT by FFmpeg, and the caption files
the packager reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from vylux_adapters.media.probe import ProbedTextStream
from vylux_adapters.media.process import FFMPEG_BASE_ARGS, run_tool
from vylux_core.errors import MediaToolFailed
from vylux_core.media.captions import (
    MAX_CAPTION_BYTES,
    CaptionFormatError,
    CaptionOrigin,
    CaptionText,
    PlannedCaption,
    is_language_tag,
    to_webvtt,
)

logger = logging.getLogger(__name__)

# A name goes into the packager's comma-separated descriptors and a quoted HLS attribute.
_UNSAFE_NAME_CHARS = str.maketrans({",": " ", '"': "'"})


async def extract_embedded(
    ffmpeg: str, source: Path, streams: Sequence[ProbedTextStream], work_dir: Path
) -> tuple[CaptionText, ...]:
    """Each text stream of ``source`` as WebVTT, from one FFmpeg run. A stream without a
    single cue (or beyond ``MAX_CAPTION_BYTES``) is left out: there is nothing to show."""
    if not streams:
        return ()
    paths = [work_dir / f"embedded_{stream.position}.vtt" for stream in streams]
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    argv = [ffmpeg, *FFMPEG_BASE_ARGS, "-y", "-i", str(source)]
    for stream, path in zip(streams, paths, strict=True):
        argv += ["-map", f"0:s:{stream.position}", "-c:s", "webvtt", "-f", "webvtt", str(path)]
    try:
        await run_tool("ffmpeg", argv)
    except MediaToolFailed as exc:
        raise MediaToolFailed(f"convert embedded subtitles: {exc}") from exc
    texts: list[CaptionText] = []
    for stream, path in zip(streams, paths, strict=True):
        data = await asyncio.to_thread(_read_bounded, path)
        try:
            webvtt = to_webvtt(data) if data is not None else None
        except CaptionFormatError:
            webvtt = None
        if webvtt is None:
            logger.info("embedded subtitle stream %d has no cues; left out", stream.position)
            continue
        texts.append(_caption_text(stream, len(texts), webvtt))
    return tuple(texts)


def _caption_text(stream: ProbedTextStream, number: int, webvtt: str) -> CaptionText:
    language = stream.language or "und"
    if not is_language_tag(language):
        language = "und"
    title = " ".join((stream.title or "").translate(_UNSAFE_NAME_CHARS).split())[:64]
    name = title or (language if language != "und" else f"Subtitles {number + 1}")
    return CaptionText(
        language=language, name=name, default=stream.default, origin=CaptionOrigin.EMBEDDED,
        webvtt=webvtt,
    )  # fmt: skip


def _read_bounded(path: Path) -> bytes | None:
    if not path.is_file() or path.stat().st_size > MAX_CAPTION_BYTES:
        return None
    return path.read_bytes()


def write_caption_inputs(work_dir: Path, captions: Sequence[PlannedCaption]) -> None:
    """Write each caption's WebVTT to ``{work_dir}/{id}.vtt``, where the packager's text
    descriptors read it (blocking file I/O: call it in a thread)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for caption in captions:
        (work_dir / f"{caption.id}.vtt").write_text(caption.text.webvtt, encoding="utf-8")
