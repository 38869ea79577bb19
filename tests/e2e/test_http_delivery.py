"""``/original``, ``/thumb`` and ``/stream``: I5–I14, ranges, HEAD, raw paths, closing readers."""

from __future__ import annotations

import pytest

from tests.e2e.http_world import IMMUTABLE, World

SIG = "0" * 64
H = "abcdef1234567890"
DATA = bytes(range(256)) * 4  # 1 KiB, every offset distinguishable


def _assert_cache_headers(response_headers: object, present: bool) -> None:
    headers = dict(response_headers)  # type: ignore[call-overload]
    if present:
        assert headers["cache-control"] == IMMUTABLE
    else:
        assert "cache-control" not in headers
    assert "vary" not in headers  # D43


# --- /original ---------------------------------------------------------------------------------


async def test_i5_original_with_encoded_key(world: World) -> None:
    key = "uploads/demo/sample image.png"
    await world.put_source(key, DATA)
    path = world.original_path(key, encoded="uploads%2Fdemo%2Fsample%20image.png")
    assert path.split("/")[2] == (
        "fb878038d302f86f365cbcc68bd514d34f22fde578296f914ee7c465824e0eb4"
    )  # the §4.2 vector
    response = await world.client.get(path)
    assert (response.status_code, response.content) == (200, DATA)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in response.headers
    assert "content-disposition" not in response.headers
    _assert_cache_headers(response.headers, present=True)
    assert world.readers.open == 0


async def test_i6_original_bad_signature(world: World) -> None:
    await world.put_source("a.png", DATA)
    response = await world.client.get("/original/bad-signature/a.png")
    assert (response.status_code, response.json()) == (403, {"message": "invalid signature"})
    _assert_cache_headers(response.headers, present=False)


async def test_i7_original_missing_object(world: World) -> None:
    response = await world.client.get(world.original_path("missing.png"))
    assert (response.status_code, response.json()) == (404, {"message": "not found"})
    _assert_cache_headers(response.headers, present=False)


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        pytest.param("uploads/a/b.png", "uploads/a/b.png", id="plain-slashes"),
        pytest.param("uploads/a/b.png", "uploads%2Fa%2Fb.png", id="encoded-slashes"),
        pytest.param("100%.png", "100%25.png", id="percent-decoded-once"),
        pytest.param("a%41.png", "a%2541.png", id="no-double-decoding"),
        pytest.param("a+b.png", "a+b.png", id="plus-is-not-space"),
    ],
)
async def test_original_keys_are_decoded_exactly_once(world: World, key: str, encoded: str) -> None:
    await world.put_source(key, DATA)
    response = await world.client.get(world.original_path(key, encoded=encoded))
    assert (response.status_code, response.content) == (200, DATA)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/original//a.png", "missing signature or object key", id="empty-sig"),
        pytest.param(f"/original/{SIG}/", "missing signature or object key", id="empty-key"),
        pytest.param(f"/original/{SIG}//", "missing object key", id="only-a-slash"),
        pytest.param(
            f"/original/{SIG}/a%zz.png",
            'invalid object key encoding: invalid URL escape "%zz"',
            id="bad-escape",
        ),
    ],
)
async def test_original_bad_requests(world: World, path: str, message: str) -> None:
    response = await world.client.get(path)
    assert (response.status_code, response.json()) == (400, {"message": message})


@pytest.mark.parametrize(
    ("key", "content_type", "attachment"),
    [
        pytest.param("page.html", "text/html; charset=utf-8", True, id="html"),
        pytest.param("logo.svg", "image/svg+xml", True, id="svg"),
        pytest.param("photo.png", "image/png", False, id="png"),
    ],
)
async def test_active_content_is_an_attachment(
    world: World, key: str, content_type: str, attachment: bool
) -> None:
    await world.put_source(key, b"<svg onload=alert(1)>")
    response = await world.client.get(world.original_path(key))
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (response.headers.get("content-disposition") == "attachment") is attachment


async def test_stored_active_type_without_extension_is_an_attachment(world: World) -> None:
    await world.put_source("uploads/page", b"<script>alert(1)</script>", content_type="text/html")
    response = await world.client.get(world.original_path("uploads/page"))
    assert response.headers["content-type"] == "text/html"
    assert response.headers["content-disposition"] == "attachment"


async def test_original_unknown_extension_uses_the_stored_type(world: World) -> None:
    await world.put_source("clip.bin", DATA, content_type="video/mp4")
    await world.put_source("blob", DATA, content_type="")
    typed = await world.client.get(world.original_path("clip.bin"))
    untyped = await world.client.get(world.original_path("blob"))
    assert typed.headers["content-type"] == "video/mp4"
    assert untyped.headers["content-type"] == "application/octet-stream"


# --- /thumb ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        pytest.param(f"images/ab/{H}/thumb.png", "image/png", id="i8-thumbnail"),
        pytest.param(f"videos/ab/{H}/cover.jpg", "image/jpeg", id="i9-cover"),
    ],
)
async def test_i8_i9_thumb_serves_media_objects(world: World, key: str, content_type: str) -> None:
    await world.put_media(key, DATA)
    response = await world.client.get(world.thumb_path(key))
    assert (response.status_code, response.content) == (200, DATA)
    assert response.headers["content-type"] == content_type
    assert response.headers["access-control-allow-origin"] == "*"
    _assert_cache_headers(response.headers, present=True)


async def test_thumb_signature_vector(world: World) -> None:
    path = world.thumb_path(f"images/ab/{H}/thumb.png", encoded=f"images%2Fab%2F{H}%2Fthumb.png")
    assert path.split("/")[2] == (
        "b52519b317ee9148d1d3af982bfb4022b21a539aa561e0e7fd6e0088b9627d47"
    )


async def test_i10_i11_i12_thumb_errors(world: World) -> None:
    key = f"images/ab/{H}/thumb.png"
    await world.put_media(key, DATA)
    bad = await world.client.get(f"/thumb/{SIG}/{key}")
    missing = await world.client.get(world.thumb_path(f"images/ab/{H}/other.png"))
    original_sig = world.original_path(key).split("/")[2]
    cross = await world.client.get(f"/thumb/{original_sig}/{key}")
    assert [(r.status_code, r.json()["message"]) for r in (bad, missing, cross)] == [
        (403, "invalid signature"),
        (404, "not found"),
        (403, "invalid signature"),
    ]
    for response in (bad, missing, cross):
        assert "access-control-allow-origin" not in response.headers
        _assert_cache_headers(response.headers, present=False)


async def test_thumb_unknown_extension_is_octet_stream(world: World) -> None:
    await world.put_media("x/blob", DATA, content_type="image/png")
    response = await world.client.get(world.thumb_path("x/blob"))
    assert response.headers["content-type"] == "application/octet-stream"


# --- /stream --------------------------------------------------------------------------------------


async def test_i13_stream_playlist(world: World) -> None:
    body = b"#EXTM3U\n"
    await world.put_media(f"videos/ab/{H}/master.m3u8", body, "application/vnd.apple.mpegurl")
    response = await world.client.get(f"/stream/{H}/master.m3u8")
    assert (response.status_code, response.content) == (200, body)
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert response.headers["access-control-allow-origin"] == "*"
    _assert_cache_headers(response.headers, present=True)


async def test_i14_dot_dot_in_the_raw_path_is_400(world: World) -> None:
    await world.put_media(f"videos/ab/{H}/secret.m3u8", b"x")
    response = await world.raw("GET", f"/stream/{H}/../secret.m3u8".encode())
    assert (response.status, response.body) == (400, b'{"message":"invalid path"}')
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        pytest.param(f"/stream/{H}/%2E%2E/secret.m3u8", 400, "invalid path", id="encoded-dot-dot"),
        pytest.param(f"/stream/{H}/", 400, "missing hash or file path", id="empty-file-path"),
        pytest.param("/stream//master.m3u8", 400, "missing hash or file path", id="empty-hash"),
        pytest.param(f"/stream/{H}/notes.txt", 400, "unsupported file type", id="unsupported-type"),
        pytest.param(f"/stream/{H}/x%zz.m3u8", 400, "invalid path", id="bad-escape"),
        pytest.param(f"/stream/{H}/missing.m4s", 404, "not found", id="missing"),
    ],
)
async def test_stream_errors(world: World, path: str, status: int, message: str) -> None:
    response = await world.client.get(path)
    assert (response.status_code, response.json()) == (status, {"message": message})
    # CORS on errors too, so a cross-origin player can read the status (docs/differences.md).
    assert response.headers["access-control-allow-origin"] == "*"
    _assert_cache_headers(response.headers, present=False)


async def test_stream_rejects_hashes_that_cannot_name_media(world: World) -> None:
    response = await world.client.get("/stream/a.b/master.m3u8")
    assert response.status_code == 400
    assert response.json()["message"].startswith("hash must be")


async def test_stream_serves_gif_previews(world: World) -> None:
    """The reference's proposed case says 400; we serve ``.gif`` previews (D26)."""
    await world.put_media(f"videos/ab/{H}/preview.gif", b"GIF89a", "image/gif")
    response = await world.client.get(f"/stream/{H}/preview.gif")
    assert (response.status_code, response.headers["content-type"]) == (200, "image/gif")


async def test_stream_serves_the_dash_manifest(world: World) -> None:
    """D56: a transcode's ``manifest.mpd``, typed for players and, being XML, never
    rendered as a page on Vylux's origin when navigated to."""
    body = b'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/>'
    await world.put_media(f"videos/ab/{H}/manifest.mpd", body, "application/dash+xml")
    response = await world.client.get(f"/stream/{H}/manifest.mpd")
    assert (response.status_code, response.content) == (200, body)
    assert response.headers["content-type"] == "application/dash+xml"
    assert response.headers["content-disposition"] == "attachment"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "path", ["/original/{sig}/a.png", "/thumb/{sig}/a.png", "/stream/" + H + "/a.m4s"]
)
async def test_storage_outage_is_502_not_404(world: World, path: str) -> None:
    world.outages.down.update({"source", "media"})
    sig = world.original_path("a.png").split("/")[2]
    if path.startswith("/thumb"):
        sig = world.thumb_path("a.png").split("/")[2]
    response = await world.client.get(path.format(sig=sig))
    assert (response.status_code, response.json()) == (502, {"message": "storage unavailable"})


# --- HEAD and ranges ----------------------------------------------------------------------------


async def test_head_sends_headers_only_and_closes_the_reader(world: World) -> None:
    await world.put_source("a.png", DATA)
    get = await world.client.get(world.original_path("a.png"))
    head = await world.client.head(world.original_path("a.png"))
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(DATA))
    assert head.headers["cache-control"] == IMMUTABLE
    missing = await world.client.head(world.original_path("missing.png"))
    assert (missing.status_code, missing.content) == (404, b"")
    assert world.readers.open == 0


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        pytest.param("bytes=0-3", 0, 3, id="closed"),
        pytest.param("bytes=1000-", 1000, 1023, id="open-ended"),
        pytest.param("bytes=-10", 1014, 1023, id="suffix"),
        pytest.param("bytes=-5000", 0, 1023, id="suffix-longer-than-object"),
        pytest.param("bytes=1020-99999", 1020, 1023, id="end-clamped"),
    ],
)
async def test_single_range_is_206(world: World, header: str, first: int, last: int) -> None:
    await world.put_media(f"videos/ab/{H}/seg.m4s", DATA, "video/iso.segment")
    response = await world.client.get(f"/stream/{H}/seg.m4s", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response.headers["content-length"] == str(last - first + 1)
    _assert_cache_headers(response.headers, present=True)
    assert world.readers.open == 0


@pytest.mark.parametrize(
    ("header", "data"),
    [
        pytest.param("bytes=1024-", DATA, id="start-at-end"),
        pytest.param("bytes=5000-6000", DATA, id="start-past-end"),
        pytest.param("bytes=-0", DATA, id="empty-suffix"),
        pytest.param("bytes=-4", b"", id="suffix-of-empty-object"),
        pytest.param("bytes=0-", b"", id="empty-object"),
    ],
)
async def test_unsatisfiable_range_is_416(world: World, header: str, data: bytes) -> None:
    await world.put_source("a.mp4", data, "video/mp4")
    response = await world.client.get(world.original_path("a.mp4"), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"
    _assert_cache_headers(response.headers, present=False)
    assert world.readers.open == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Range": "bytes=0-1,4-5"}, id="multiple-ranges"),
        pytest.param({"Range": "bytes=5-1"}, id="backwards"),
        pytest.param({"Range": "items=0-1"}, id="other-unit"),
        pytest.param({"Range": "bytes=abc"}, id="garbage"),
        pytest.param({"Range": "bytes=0-1", "If-Range": '"x"'}, id="if-range"),
    ],
)
async def test_ignored_ranges_send_the_whole_object(world: World, headers: dict[str, str]) -> None:
    await world.put_source("a.mp4", DATA, "video/mp4")
    response = await world.client.get(world.original_path("a.mp4"), headers=headers)
    assert (response.status_code, response.content) == (200, DATA)


async def test_head_with_range(world: World) -> None:
    await world.put_source("a.mp4", DATA, "video/mp4")
    response = await world.client.head(world.original_path("a.mp4"), headers={"Range": "bytes=0-9"})
    assert (response.status_code, response.content) == (206, b"")
    assert response.headers["content-length"] == "10"
    assert response.headers["content-range"] == f"bytes 0-9/{len(DATA)}"


# --- streaming ---------------------------------------------------------------------------------


async def test_large_object_streams_in_chunks_and_reader_closes_on_disconnect(world: World) -> None:
    big = bytes(3 * 1024 * 1024)
    await world.put_media(f"videos/ab/{H}/big.mp4", big, "video/mp4")
    whole = await world.client.get(f"/stream/{H}/big.mp4")
    assert (whole.status_code, len(whole.content)) == (200, len(big))
    cut = await world.raw("GET", f"/stream/{H}/big.mp4".encode(), disconnect_after_start=True)
    assert cut.status == 200
    assert len(cut.body) < len(big)
    assert world.readers.opened == 2
    assert world.readers.open == 0
