"""FFmpeg, ffprobe and Shaka Packager behind the MediaToolchain and AudioToolchain ports."""

from vylux_adapters.media.audio import FfmpegAudioToolchain
from vylux_adapters.media.binaries import MediaBinaries
from vylux_adapters.media.toolchain import FfmpegMediaToolchain

__all__ = ["FfmpegAudioToolchain", "FfmpegMediaToolchain", "MediaBinaries"]
