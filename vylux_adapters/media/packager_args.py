"""Shaka Packager options (no binary) that package the encodes into CMAF trees described
as HLS playlists and a DASH manifest, and the copy of them that is safe to log.

Pure functions over the core's ladder, rendition and layout values; the runner prepends
the binary path and runs the lists.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from typing import Final

from attrs import field, frozen

from vylux_core.media.audio_renditions import AudioRendition
from vylux_core.media.ladder import (
    DASH_MANIFEST,
    IFRAME_PLAYLIST,
    INIT_SEGMENT,
    MAIN_AUDIO_TRACK,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    SEGMENT_SECONDS,
    SEGMENT_TEMPLATE,
    Variant,
    encoded_name,
    text_dir,
    variant_dir,
)
from vylux_core.ports.media_toolchain import HlsEncryption

# GROUP-ID of the master playlist's SUBTITLES renditions, which every variant refers to.
SUBTITLES_GROUP: Final = "subtitles"
# HLS media segments of a text track: plain WebVTT, which hls.js, Shaka Player and Safari
# all read; DASH gets the same cues as WebVTT in fMP4 (``wvtt``, init.mp4 + .m4s), which
# dash.js and Shaka Player read (dash.js reads no segmented plain WebVTT).
TEXT_HLS_SEGMENT_TEMPLATE: Final = "seg_$Number$.vtt"


@frozen
class PackagerEncryption:
    """Raw-key CBCS settings; ``key`` is kept out of repr so it never reaches a log line."""

    key_id: str  # 32 hex
    key: str = field(repr=False)  # 32 hex, the content key itself
    key_uri: str  # where players fetch the 16 raw key bytes


def packager_encryption(
    encryption: HlsEncryption | None,
) -> tuple[PackagerEncryption | None, tuple[str, ...]]:
    """Shaka's settings for a plan's key, and the secrets to mask in its command line."""
    if encryption is None:
        return None, ()
    settings = PackagerEncryption(
        key_id=encryption.kid_hex, key=encryption.key_hex, key_uri=encryption.key_uri
    )
    return settings, (encryption.key_hex,)


@frozen
class TextTrack:
    """A subtitles track to package from ``{input_dir}/{id}.vtt``. ``language`` is a BCP 47
    tag, ``und`` when unknown (then the manifests carry none)."""

    id: str
    language: str
    name: str


def packager_args(
    input_dir: str,
    output_dir: str,
    variants: Iterable[Variant],
    *,
    has_audio: bool,
    language: str = "und",
    encryption: PackagerEncryption | None = None,
    text_tracks: Sequence[TextTrack] = (),
    default_text_language: str | None = None,
) -> list[str]:
    """Shaka Packager options (no binary) packaging the encodes into one CMAF tree,
    described twice: HLS playlists and a DASH manifest over the same init and media segments.
    Text tracks are the exception: HLS gets segmented WebVTT, DASH WebVTT in fMP4, both
    under ``text/{id}/``; the packager never encrypts text. ``default_text_language`` marks
    the subtitles of that language as the default.

    Raises ValueError for encryption with an empty key, KID or URI, and for directories with
    a comma, which would split a stream descriptor into bogus fields.
    """
    if "," in input_dir or "," in output_dir:
        raise ValueError("packager directories must not contain ','")
    tagged = bool(language) and language != "und"
    args: list[str] = []
    if has_audio:
        track = MAIN_AUDIO_TRACK
        audio = _descriptor(input_dir, output_dir, "audio", track.id)
        audio += f",hls_group_id=audio,hls_name={track.hls_name}"
        args.append(audio + (f",lang={language}" if tagged else ""))
    # No `bw=`: without it Shaka writes the bandwidth it measured from the encoded
    # streams into the master playlist instead of a fixed guess.
    args += [
        _descriptor(input_dir, output_dir, "video", variant.label)
        + f",iframe_playlist_name={posixpath.join(variant_dir(variant.label), IFRAME_PLAYLIST)}"
        for variant in variants
    ]
    for text in text_tracks:
        args += _text_descriptors(input_dir, output_dir, text)
    args += ["--hls_master_playlist_output", posixpath.join(output_dir, MASTER_PLAYLIST)]
    args += ["--hls_playlist_type", "VOD"]
    # Static: with segment templates Shaka would otherwise write a live ("dynamic") MPD.
    args += [
        "--mpd_output",
        posixpath.join(output_dir, DASH_MANIFEST),
        "--generate_static_live_mpd",
    ]
    # Fragment = segment: one moof per segment.
    duration = str(SEGMENT_SECONDS)
    args += ["--segment_duration", duration, "--fragment_duration", duration]
    if has_audio and tagged:
        args += ["--default_language", language]
    if default_text_language and default_text_language != "und":
        args += ["--default_text_language", default_text_language]
    if encryption is not None:
        args += encryption_args(encryption)
    return args


def _text_descriptors(input_dir: str, output_dir: str, track: TextTrack) -> list[str]:
    if any(ch in track.name for ch in ',\n"'):
        raise ValueError(f"text track name {track.name!r} must not contain ',', '\"' or a newline")
    rel_dir = text_dir(track.id)
    out = posixpath.join(output_dir, rel_dir)
    common = f"in={posixpath.join(input_dir, track.id)}.vtt,stream=text"
    # The packager refuses "und"; without a language it writes none.
    if track.language and track.language != "und":
        common += f",language={track.language}"
    hls = ",".join(
        (
            common,
            f"segment_template={posixpath.join(out, TEXT_HLS_SEGMENT_TEMPLATE)}",
            f"playlist_name={posixpath.join(rel_dir, MEDIA_PLAYLIST)}",
            f"hls_group_id={SUBTITLES_GROUP},hls_name={track.name},hls_only=1",
        )
    )
    dash = ",".join(
        (
            common,
            f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
            f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
            f"dash_label={track.name},dash_only=1",
        )
    )
    return [hls, dash]


def _descriptor(input_dir: str, output_dir: str, stream: str, name: str) -> str:
    # Same layout as AUDIO_DIR / variant_dir(): <stream>/<track id or label>/
    rel_dir = f"{stream}/{name}"
    out = posixpath.join(output_dir, rel_dir)
    return ",".join(
        (
            f"in={posixpath.join(input_dir, encoded_name(name))}",
            f"stream={stream}",
            f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
            f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
            f"playlist_name={posixpath.join(rel_dir, MEDIA_PLAYLIST)}",
        )
    )


def audio_packager_args(
    input_dir: str,
    output_dir: str,
    renditions: Sequence[AudioRendition],
    *,
    encryption: PackagerEncryption | None = None,
) -> list[str]:
    """Shaka Packager options (no binary) packaging the renditions as one audio-only CMAF
    tree, described as HLS (a master playlist with one variant per rendition) and DASH
    (one adaptation set). Raises ValueError as :func:`packager_args`."""
    if "," in input_dir or "," in output_dir:
        raise ValueError("packager directories must not contain ','")
    args = []
    for rendition in renditions:
        out = posixpath.join(output_dir, rendition.directory)
        args.append(
            ",".join(
                (
                    f"in={posixpath.join(input_dir, encoded_name(rendition.id))}",
                    "stream=audio",
                    f"init_segment={posixpath.join(out, INIT_SEGMENT)}",
                    f"segment_template={posixpath.join(out, SEGMENT_TEMPLATE)}",
                    f"playlist_name={posixpath.join(rendition.directory, MEDIA_PLAYLIST)}",
                    "hls_group_id=audio",
                    f"hls_name={rendition.hls_name}",
                )
            )
        )
    duration = str(SEGMENT_SECONDS)
    args += [
        "--hls_master_playlist_output", posixpath.join(output_dir, MASTER_PLAYLIST),
        "--hls_playlist_type", "VOD",
        "--mpd_output", posixpath.join(output_dir, DASH_MANIFEST), "--generate_static_live_mpd",
        "--segment_duration", duration, "--fragment_duration", duration,
    ]  # fmt: skip
    if encryption is not None:
        args += encryption_args(encryption)
    return args


def encryption_args(encryption: PackagerEncryption) -> list[str]:
    """Shaka Packager options for raw-key CBCS with one key for every track."""
    if not (encryption.key and encryption.key_id and encryption.key_uri):
        raise ValueError("incomplete encryption config")
    return [
        "--enable_raw_key_encryption",
        "--protection_scheme", "cbcs",
        # Without it Shaka leaves the first seconds in the clear (TOOLCHAIN.md).
        "--clear_lead", "0",
        # Empty label: one key for every track, which is what the key endpoint serves.
        "--keys", f"label=:key_id={encryption.key_id}:key={encryption.key}",
        # The W3C common PSSH (system 1077efec-…) in every init segment and in the MPD's
        # ContentProtection: what EME's Clear Key CDM (org.w3.clearkey) reads the key ID
        # from. Named although it is also Shaka's default, so the output does not depend on
        # a default. HLS is unaffected: it keeps one KEYFORMAT="identity" key tag whose URI
        # is --hls_key_uri (FairPlay, Widevine, PlayReady would each add their own tag).
        "--protection_systems", "CommonSystem",
        "--hls_key_uri", encryption.key_uri,
    ]  # fmt: skip


_KEY_VALUE = re.compile(r"(^|:)key=[^:]*")


def redact_args(args: Iterable[str]) -> list[str]:
    """Copy of packager ``args`` with the content key masked, safe to log."""
    redacted: list[str] = []
    after_keys = False
    for arg in args:
        if after_keys:
            arg = _KEY_VALUE.sub(r"\1key=<redacted>", arg)
        elif arg.startswith("--keys="):
            arg = "--keys=" + _KEY_VALUE.sub(r"\1key=<redacted>", arg.removeprefix("--keys="))
        redacted.append(arg)
        after_keys = arg == "--keys"
    return redacted
