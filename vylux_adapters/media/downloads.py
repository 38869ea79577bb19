"""MP4 downloads: remuxes of the ladder's encodes, so a download costs no second encode."""

from __future__ import annotations

from pathlib import Path

from vylux_core.errors import MediaToolFailed
from vylux_core.media.downloads import DownloadKind, download_path
from vylux_core.media.ladder import MAIN_AUDIO_TRACK, VideoCodec, encoded_name
from vylux_core.ports.media_toolchain import HlsPlan, PackagedDownload

# `-c copy` keeps the encoded samples; +faststart moves `moov` in front of `mdat`, so a
# player starts before the whole file has arrived. No container metadata is copied.
_REMUX_OUTPUT_ARGS = ("-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart")


def plan_downloads(
    plan: HlsPlan, work_dir: Path, output_dir: Path
) -> list[tuple[PackagedDownload, tuple[str, ...]]]:
    """The downloads to write and the FFmpeg options (no binary) of each; ``AUDIO`` is
    left out when the plan has no audio."""
    audio = str(work_dir / encoded_name(MAIN_AUDIO_TRACK.id))
    runs: list[tuple[PackagedDownload, tuple[str, ...]]] = []
    for kind in plan.downloads:
        relative = download_path(kind)
        out = str(output_dir / relative)
        if kind is DownloadKind.HIGHEST:
            video = str(work_dir / encoded_name(_top_h264(plan)))
            inputs, maps = ["-i", video], ["-map", "0:v:0"]
            if plan.include_audio:
                inputs, maps = [*inputs, "-i", audio], [*maps, "-map", "1:a:0"]
            args = ("-y", *inputs, *maps, *_REMUX_OUTPUT_ARGS, out)
        elif plan.include_audio:
            args = ("-y", "-i", audio, "-map", "0:a:0", *_REMUX_OUTPUT_ARGS, out)
        else:
            continue
        runs.append((PackagedDownload(kind=kind, file=relative), args))
    return runs


def _top_h264(plan: HlsPlan) -> str:
    h264 = [variant for variant in plan.variants if variant.codec is VideoCodec.H264]
    if not h264:
        raise MediaToolFailed("downloads: the ladder has no H.264 rendition")
    return max(h264, key=lambda variant: variant.width * variant.height).label
