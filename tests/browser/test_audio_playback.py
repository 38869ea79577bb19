"""``audio:transcode`` streams in Shaka Player (headless Chromium): the audio-only DASH
manifest and HLS master play, clear and encrypted (Clear Key licence for DASH, the raw
key for HLS, both from Vylux with the key token), past 3 s with no error event.

Same world and requirements as ``test_playback`` (``-m browser``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser.test_playback import assert_shaka_licence_errors_only
from tests.browser.world import World
from vylux_core.security.key_token import mint_key_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TREE = "audio-only"
MPD = f"{TREE}/manifest.mpd"
M3U8 = f"{TREE}/master.m3u8"
PLAYED_PAST = 3  # page.js


def test_results_name_the_audio_only_manifests(world: World) -> None:
    for stream in world.audio_streams.values():
        streaming = stream.results["streaming"]
        assert streaming["encrypted"] is stream.encrypted
        assert streaming["master_playlist"].endswith(f"/{stream.hash}/{M3U8}")
        assert streaming["dash_manifest"].endswith(f"/{stream.hash}/{MPD}")
        assert [t["id"] for t in stream.results["audio_tracks"]] == ["aac_128k", "aac_64k"]


@pytest.mark.parametrize("manifest", [MPD, M3U8])
@pytest.mark.parametrize("name", ["clear", "encrypted"])
def test_shaka_player_plays_an_audio_only_stream(
    world: World, name: str, manifest: str, tmp_path: Path
) -> None:
    stream = world.audio_streams[name]

    result = world.play("shaka-audio.html", stream, manifest, tmp_path)

    seen = json.dumps(result, indent=1)
    assert result["status"] == "played", seen
    assert result["errors"] == [], seen
    assert result["currentTime"] > PLAYED_PAST, seen
    assert {track["codec"] for track in result["tracks"]} == {"mp4a.40.2"}, seen
    base = f"/stream/{stream.hash}/"
    fetched = [url.split(base, 1)[1] for url in result["fetched"] if base in url]
    assert manifest in fetched, seen
    assert any(
        path in fetched for path in (f"{TREE}/aac_128k/seg_1.m4s", f"{TREE}/aac_64k/seg_1.m4s")
    ), seen
    if stream.encrypted:
        # The segments really were encrypted, and the key came from Vylux: the licence for
        # DASH, the raw key (HLS "identity" key URI) for HLS.
        assert result["encryptedEvents"] > 0, seen
        key_path = f"/api/key/{stream.hash}" + ("/clearkey" if manifest == MPD else "")
        assert any(url.endswith(key_path) for url in result["fetched"]), seen
    else:
        assert result["encryptedEvents"] == 0, seen


def test_an_encrypted_audio_stream_does_not_play_with_a_wrong_token(
    world: World, tmp_path: Path
) -> None:
    stream = world.audio_streams["encrypted"]
    token = mint_key_token("66" * 16, stream.hash, int(time.time()) + 3600)

    result = world.play("shaka-audio.html", stream, MPD, tmp_path, token=token)

    seen = json.dumps(result, indent=1)
    assert result["status"] == "fatal", seen
    # Chromium may move the clock a tick while it waits for the key; it never plays on.
    assert result["currentTime"] < 1, seen
    assert_shaka_licence_errors_only(result, seen)
