"""FFmpeg, ffprobe and Shaka Packager behind the MediaToolchain port."""

from vylux_adapters.media.binaries import MediaBinaries
from vylux_adapters.media.toolchain import FfmpegMediaToolchain

__all__ = ["FfmpegMediaToolchain", "MediaBinaries"]
