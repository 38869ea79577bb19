"""Captions through the real FFmpeg and Shaka Packager: sidecar WebVTT and SRT files and a
source's embedded mov_text track become one SUBTITLES group in the HLS master playlist and
text adaptation sets in the DASH manifest, clear and beside an encrypted stream."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.media import (
    EMBEDDED_SRT,
    SAMPLE_SRT,
    SAMPLE_VTT,
    SYSTEM_FFMPEG,
    add_mov_text,
    make_clip,
    make_mkv_with_text_tracks,
    run_tool,
)
from vylux_adapters.media import FfmpegMediaToolchain, MediaBinaries
from vylux_core.media.captions import CaptionOrigin, CaptionText, to_webvtt
from vylux_core.media.ladder import DASH_MANIFEST, MASTER_PLAYLIST, VideoCodec, resolve_ladder
from vylux_core.ports.media_toolchain import HlsEncryption, HlsPackage, HlsPlan

pytestmark = pytest.mark.slow

MPD = "{urn:mpeg:dash:schema:mpd:2011}"
# Debian's ffprobe: the bundled one has no DASH demuxer.
SYSTEM_FFPROBE = SYSTEM_FFMPEG.with_name("ffprobe")
SIDECARS = (
    CaptionText(
        language="en", name="English", default=True, origin=CaptionOrigin.SIDECAR,
        webvtt=to_webvtt(SAMPLE_VTT.encode()),
    ),
    CaptionText(
        language="de", name="Deutsch", default=False, origin=CaptionOrigin.SIDECAR,
        webvtt=to_webvtt(SAMPLE_SRT.encode()),
    ),
)  # fmt: skip
ENCRYPTION = HlsEncryption(
    key_hex="00112233445566778899aabbccddeeff",
    kid_hex="a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
    key_uri="https://media.example.com/api/key/abc",
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("captioned")
    ffmpeg = MediaBinaries.resolve().ffmpeg
    clip = make_clip(ffmpeg, root / "clip.mp4", width=320, height=180, seconds=2, fps=25,
                     audio=True)  # fmt: skip
    srt = root / "embedded.srt"
    srt.write_text(EMBEDDED_SRT)
    return add_mov_text(ffmpeg, clip, srt, root / "captioned.mp4", language="fra")


async def _package(
    source: Path, out: Path, encryption: HlsEncryption | None
) -> tuple[HlsPackage, Path]:
    toolchain = FfmpegMediaToolchain(binaries=MediaBinaries.resolve())
    plan = HlsPlan(
        variants=resolve_ladder(320, 180, codecs=(VideoCodec.H264,)), include_audio=True,
        frame_rate=25.0, encryption=encryption, captions=SIDECARS,
    )  # fmt: skip
    package = await toolchain.package_hls(source, plan, out / "work", out / "hls")
    return package, out / "hls"


@pytest.fixture(scope="module", params=["clear", "encrypted"])
async def packaged(
    source: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[HlsPackage, Path]:
    encryption = ENCRYPTION if request.param == "encrypted" else None
    return await _package(source, tmp_path_factory.mktemp(request.param), encryption)


def _subtitle_media(master: str) -> list[dict[str, str]]:
    rows = []
    for line in master.splitlines():
        if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES"):
            rows.append(dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])))
    return [{k: v.strip('"') for k, v in row.items()} for row in rows]


def _text_sets(out: Path) -> list[ET.Element]:
    root = ET.parse(out / DASH_MANIFEST).getroot()
    return [a for a in root.iter(f"{MPD}AdaptationSet") if a.get("contentType") == "text"]


async def test_sidecar_vtt_srt_and_embedded_mov_text_reach_both_manifests(
    packaged: tuple[HlsPackage, Path],
) -> None:
    package, out = packaged

    assert [(c.id, c.language, c.name, c.default, c.origin) for c in package.captions] == [
        ("en_0", "en", "English", True, CaptionOrigin.SIDECAR),
        ("de_1", "de", "Deutsch", False, CaptionOrigin.SIDECAR),
        ("fra_2", "fra", "fra", False, CaptionOrigin.EMBEDDED),
    ]
    master = (out / MASTER_PLAYLIST).read_text()
    media = _subtitle_media(master)
    assert [(m["LANGUAGE"], m["NAME"], m["DEFAULT"], m["URI"]) for m in media] == [
        ("en", "English", "YES", "text/en_0/playlist.m3u8"),
        ("de", "Deutsch", "NO", "text/de_1/playlist.m3u8"),
        ("fr", "fra", "NO", "text/fra_2/playlist.m3u8"),  # the packager's shortest form
    ]
    assert {m["GROUP-ID"] for m in media} == {"subtitles"}
    variants = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert variants
    assert all('SUBTITLES="subtitles"' in line for line in variants)
    for caption, cue in zip(
        package.captions,
        ("Hello from the English sidecar", "Hallo aus der SRT-Datei", "Bonjour du mov_text"),
        strict=True,
    ):
        playlist = (out / caption.directory / "playlist.m3u8").read_text()
        assert "seg_1.vtt" in playlist
        assert "#EXT-X-KEY" not in playlist  # text is never encrypted
        assert cue in (out / caption.directory / "seg_1.vtt").read_text()
        init = (out / caption.directory / "init.mp4").read_bytes()
        assert b"wvtt" in init
        assert b"sinf" not in init
        assert cue.encode() in (out / caption.directory / "seg_1.m4s").read_bytes()
    text_sets = _text_sets(out)
    assert [(a.get("lang"), a.findtext(f"{MPD}Label")) for a in text_sets] == [
        ("en", "English"), ("de", "Deutsch"), ("fr", "fra"),
    ]  # fmt: skip
    for adaptation in text_sets:
        assert adaptation.find(f"{MPD}ContentProtection") is None
        [representation] = adaptation.iter(f"{MPD}Representation")
        assert (representation.get("mimeType"), representation.get("codecs")) == (
            "application/mp4", "wvtt",
        )  # fmt: skip


async def test_ffprobe_opens_the_manifest_with_its_text_streams(
    packaged: tuple[HlsPackage, Path],
) -> None:
    if not SYSTEM_FFPROBE.is_file():
        pytest.fail(f"{SYSTEM_FFPROBE} is needed (.ci/run installs Debian's ffmpeg)")
    _, out = packaged

    listing = await asyncio.to_thread(
        run_tool,
        [str(SYSTEM_FFPROBE), "-v", "error", "-show_entries",
         "stream=index,codec_type,codec_tag_string", "-of", "csv=p=0", str(out / DASH_MANIFEST)],
    )  # fmt: skip

    # Each stream once (the listing repeats them per program).
    streams = set(listing.decode().split())
    assert sorted(",".join(row.split(",")[1:3]) for row in streams) == [
        "audio,mp4a", "data,wvtt", "data,wvtt", "data,wvtt", "video,avc1",
    ]  # fmt: skip


async def test_ass_and_subrip_tracks_of_a_matroska_source_are_carried_over(
    tmp_path: Path,
) -> None:
    binaries = MediaBinaries.resolve()
    srt = tmp_path / "cues.srt"
    srt.write_text(EMBEDDED_SRT)
    source = await asyncio.to_thread(
        make_mkv_with_text_tracks, binaries.ffmpeg, tmp_path / "in.mkv", srt, seconds=2
    )
    plan = HlsPlan(
        variants=resolve_ladder(160, 90, codecs=(VideoCodec.H264,)), include_audio=False,
        frame_rate=25.0,
    )  # fmt: skip
    toolchain = FfmpegMediaToolchain(binaries=binaries)

    package = await toolchain.package_hls(source, plan, tmp_path / "work", tmp_path / "hls")

    assert [(c.id, c.language, c.name, c.origin) for c in package.captions] == [
        ("eng_0", "eng", "English SDH", CaptionOrigin.EMBEDDED),
        ("und_1", "und", "Subtitles 2", CaptionOrigin.EMBEDDED),
    ]
    media = _subtitle_media((tmp_path / "hls" / MASTER_PLAYLIST).read_text())
    # Matroska flags the first track of a kind as the default; the packager shortens "eng".
    assert [(m.get("LANGUAGE"), m["NAME"], m["DEFAULT"]) for m in media] == [
        ("en", "English SDH", "YES"), (None, "Subtitles 2", "NO"),
    ]  # fmt: skip
    for caption in package.captions:
        assert (
            "Bonjour du mov_text"
            in (tmp_path / "hls" / caption.directory / "seg_1.vtt").read_text()
        )
    assert [a.get("lang") for a in _text_sets(tmp_path / "hls")] == ["en", None]
