"""Uploading a packaged HLS tree so that no client ever sees a dangling playlist."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from vylux_core.media.ladder import MASTER_PLAYLIST
from vylux_core.media.mime_types import extension_of, stream_content_type
from vylux_core.media.storage_keys import video_key
from vylux_core.ports.object_store import ObjectStore

# Media: CMAF init and segments, and the subtitles' WebVTT segments.
_MEDIA_EXTENSIONS = (".m4s", ".mp4", ".vtt")
_HLS_EXTENSIONS = (*_MEDIA_EXTENSIONS, ".m3u8", ".mpd")


def upload_order(files: Iterable[str]) -> list[list[str]]:
    """Waves to upload one after another: media (init + segments, WebVTT segments), then
    the media playlists and the DASH manifest (which references only media), then the
    master playlist. Files of other types are not published."""
    files = list(files)  # walked three times below
    media = sorted(f for f in files if extension_of(f) in _MEDIA_EXTENSIONS)
    playlists = sorted(
        f for f in files if extension_of(f) in (".m3u8", ".mpd") and f != MASTER_PLAYLIST
    )
    master = [f for f in files if f == MASTER_PLAYLIST]
    return [wave for wave in (media, playlists, master) if wave]


async def upload_hls_tree(
    *,
    media: ObjectStore,
    media_hash: str,
    root: Path,
    files: Iterable[str],
    concurrency: int,
    under: str = "",
) -> list[str]:
    """Upload ``files`` (relative to ``root``) under ``videos/{p}/{hash}/`` (and its
    subdirectory ``under`` when given); returns the keys in upload order. Each wave is
    parallel (bounded); waves are sequential."""
    limit = asyncio.Semaphore(concurrency)
    uploaded: list[str] = []

    async def put(relative: str) -> str:
        key = video_key(media_hash, f"{under}/{relative}" if under else relative)
        content_type = stream_content_type(relative) or "application/octet-stream"
        async with limit:
            await media.upload_file(key, root / relative, content_type=content_type)
        return key

    for wave in upload_order(f for f in files if extension_of(f) in _HLS_EXTENSIONS):
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(put(relative)) for relative in wave]
        except* Exception as failures:
            # The callers classify one error (a storage outage is transient), not a group.
            raise _first_leaf(failures) from None
        uploaded.extend(task.result() for task in tasks)
    return uploaded


def _first_leaf(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
