"""Playback in headless Chromium by real players with their standard set-up (docs/playback.md).

Shaka Player plays the clear and the encrypted stream as DASH and as HLS (Clear Key licences
from ``POST /api/key/{hash}/clearkey``, the key token added by a request filter), dash.js
plays DASH, hls.js the clear HLS stream. Each run must pass 3 s of playback, first on the
H.264 rendition and then on the AV1 one, with no error event; with a wrong token the
encrypted stream must fail with a licence error.

Needs Debian's ``chromium`` and the players from npm (installed by ``.ci/run``); without
them the tests skip locally and fail in CI (``tests.support.services``). Selected with
``-m browser``.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.world import KEY_TOKEN_SECRET, Stream, World, assert_played_both_codecs
from tests.support.media import SAMPLE_VTT
from vylux_core.security.key_token import mint_key_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MPD = "manifest.mpd"
M3U8 = "master.m3u8"
# Shaka Player's shaka.util.Error categories and codes.
SHAKA_NETWORK = 1
SHAKA_BAD_HTTP_STATUS = 1001
SHAKA_DRM = 6
SHAKA_LICENSE_REQUEST_FAILED = 6007
# dash.js ProtectionErrors.MEDIA_KEY_MESSAGE_LICENSER_ERROR_CODE: the licence request failed.
DASHJS_LICENSER_ERROR = 114


def test_results_name_both_manifests(world: World) -> None:
    for stream in world.streams.values():
        streaming = stream.results["streaming"]
        assert streaming["encrypted"] is stream.encrypted
        prefix = streaming["master_playlist"].removesuffix(M3U8)
        assert streaming["dash_manifest"] == prefix + MPD
        assert {track["codec"] for track in stream.results["video_tracks"]} == {"av1", "h264"}


@pytest.mark.parametrize("manifest", [MPD, M3U8])
@pytest.mark.parametrize("name", ["clear", "encrypted"])
def test_shaka_player_plays_both_codecs(
    world: World, name: str, manifest: str, tmp_path: Path
) -> None:
    stream = world.streams[name]

    result = world.play("shaka.html", stream, manifest, tmp_path)

    # HLS: Shaka fetches the raw key from the playlist's KEYFORMAT="identity" URI itself and
    # hands it to the Clear Key CDM; DASH: a licence from the licence endpoint.
    key_path = f"/api/key/{stream.hash}" if manifest == M3U8 else None
    assert_played_both_codecs(result, stream, manifest, key_path=key_path)


@pytest.mark.parametrize("name", ["clear", "encrypted"])
def test_dashjs_plays_both_codecs(world: World, name: str, tmp_path: Path) -> None:
    stream = world.streams[name]

    result = world.play("dashjs.html", stream, MPD, tmp_path)

    assert_played_both_codecs(result, stream, MPD)


def test_hlsjs_plays_clear_hls_in_both_codecs(world: World, tmp_path: Path) -> None:
    stream = world.streams["clear"]

    result = world.play("hls.html", stream, M3U8, tmp_path)

    assert_played_both_codecs(result, stream, M3U8)


def wrong_token(stream: Stream) -> str:
    """A well-formed token for this stream, signed with another secret."""
    token = mint_key_token("66" * 16, stream.hash, int(time.time()) + 3600)
    assert token != mint_key_token(KEY_TOKEN_SECRET, stream.hash, int(time.time()) + 3600)
    return token


def refused_playback(
    world: World, page: str, manifest: str, tmp_path: Path
) -> tuple[dict[str, Any], str]:
    """``page`` on the encrypted stream with a wrong token: the player stops with a fatal
    error before decoding one frame. Returns the result and its dump for messages."""
    stream = world.streams["encrypted"]
    result = world.play(page, stream, manifest, tmp_path, token=wrong_token(stream))
    seen = json.dumps(result, indent=1)
    assert result["status"] == "fatal", seen
    assert result["decodedFrames"] == 0, seen  # not one frame without the key
    return result, seen


def assert_shaka_licence_errors_only(result: dict[str, Any], seen: str) -> None:
    """Shaka reported errors, and every one is its failed licence request."""
    assert result["errors"], seen
    assert all(
        (error["category"], error["code"]) == (SHAKA_DRM, SHAKA_LICENSE_REQUEST_FAILED)
        for error in result["errors"]
    ), seen


def test_shaka_player_dash_with_a_wrong_token_fails_with_a_licence_error(
    world: World, tmp_path: Path
) -> None:
    result, seen = refused_playback(world, "shaka.html", MPD, tmp_path)

    assert_shaka_licence_errors_only(result, seen)


def test_shaka_player_hls_with_a_wrong_token_fails_fetching_the_key(
    world: World, tmp_path: Path
) -> None:
    """HLS has no licence exchange: Shaka fetches the key itself, and Vylux refuses it."""
    result, seen = refused_playback(world, "shaka.html", M3U8, tmp_path)

    [error] = result["errors"]
    assert (error["category"], error["code"]) == (SHAKA_NETWORK, SHAKA_BAD_HTTP_STATUS), seen
    # data: [uri, status, …] of the refused request.
    uri, status = json.loads(error["data"])[:2]
    key_url = f"{world.vylux.base_url}/api/key/{world.streams['encrypted'].hash}"
    assert (uri, status) == (key_url, 403), seen


def test_dashjs_with_a_wrong_token_fails_with_a_licence_error(world: World, tmp_path: Path) -> None:
    result, seen = refused_playback(world, "dashjs.html", MPD, tmp_path)

    assert result["errors"], seen
    assert {(error["type"], error["code"]) for error in result["errors"]} == {
        ("dashjs", DASHJS_LICENSER_ERROR)
    }, seen


def test_storyboard_vtt_is_a_metadata_track_and_shaka_thumbnails(
    world: World, tmp_path: Path
) -> None:
    """The <track kind="metadata"> loads cross-origin (/stream's CORS) and exposes one cue
    per tile; Shaka's thumbnails track answers each time with its tile of the sprite."""
    stream = world.streams["clear"]
    storyboard = stream.results["storyboard"]
    base = f"{world.vylux.base_url}/stream/{stream.hash}/"
    times = [0.5, 2.5, 5.5]

    result = world.play(
        "storyboard.html", stream, M3U8, tmp_path,
        extra={"vtt": base + "storyboard.vtt", "at": ",".join(map(str, times))},
    )  # fmt: skip

    seen = json.dumps(result, indent=1)
    assert result["status"] == "loaded", seen
    assert result["errors"] == [], seen
    cues = result["cues"]
    assert len(cues) == storyboard["tiles"] == 6, seen
    assert cues[0]["start"] == 0, seen
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(cues)), seen
    assert math.isclose(cues[-1]["end"], 6, abs_tol=0.05), seen
    for index, cue in enumerate(cues):
        assert cue["text"] == f"storyboard.jpg#xywh={index * 160},0,160,90", seen
    assert [thumbnail and thumbnail["at"] for thumbnail in result["thumbnails"]] == times, seen
    for thumbnail in result["thumbnails"]:
        index = int(thumbnail["at"])  # one tile a second
        # The sprite's URL resolved against the VTT's, with the cue's fragment.
        assert thumbnail["uris"] == [f"{base}storyboard.jpg#xywh={index * 160},0,160,90"], seen
        assert (thumbnail["x"], thumbnail["y"]) == (index * 160, 0), seen
        assert (thumbnail["width"], thumbnail["height"]) == (160, 90), seen
        assert thumbnail["start"] == index, seen


# --- subtitles (#19 item 3) --------------------------------------------------------------

# The one cue of the sidecar WebVTT (0.2 s to 5.5 s).
CUE = SAMPLE_VTT.strip().splitlines()[-1]
PLAYERS = [
    pytest.param("shaka.html", MPD, "clear", id="shaka-dash-clear"),
    pytest.param("shaka.html", M3U8, "clear", id="shaka-hls-clear"),
    pytest.param("shaka.html", MPD, "encrypted", id="shaka-dash-encrypted"),
    pytest.param("shaka.html", M3U8, "encrypted", id="shaka-hls-encrypted"),
    pytest.param("dashjs.html", MPD, "clear", id="dashjs-clear"),
    pytest.param("dashjs.html", MPD, "encrypted", id="dashjs-encrypted"),
    pytest.param("hls.html", M3U8, "clear", id="hlsjs-clear"),
]


def test_results_list_the_sidecar_captions(world: World) -> None:
    for stream in world.streams.values():
        prefix = stream.results["streaming"]["master_playlist"].removesuffix(M3U8)
        assert stream.results["captions"] == [
            {
                "id": "en_0", "language": "en", "name": "English", "default": True,
                "origin": "sidecar", "playlist": prefix + "text/en_0/playlist.m3u8",
                "segment_count": 1,
            }
        ]  # fmt: skip


@pytest.mark.parametrize(("page", "manifest", "name"), PLAYERS)
def test_players_list_the_subtitles_and_show_their_cue(
    world: World, page: str, manifest: str, name: str, tmp_path: Path
) -> None:
    stream = world.streams[name]

    result = world.play(page, stream, manifest, tmp_path, captions=True)

    seen = json.dumps(result, indent=1)
    assert result["status"] == "captioned", seen
    assert result["errors"] == [], seen
    [track] = result["textTracks"]
    assert track["language"] == "en", seen
    assert track["label"] == "English", seen
    assert result["cues"] == [CUE], seen
    base = f"/stream/{stream.hash}/"
    fetched = [url.split(base, 1)[1] for url in result["fetched"] if base in url]
    # HLS reads the segmented WebVTT, DASH the WebVTT in fMP4.
    text_segment = "text/en_0/seg_1.vtt" if manifest == M3U8 else "text/en_0/seg_1.m4s"
    assert text_segment in fetched, seen
