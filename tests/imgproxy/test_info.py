"""The info endpoint (``{prefix}/{signature}/info/…``) on the production app, and the
ThumbHash encoder against vectors of the reference implementation."""

from __future__ import annotations

import asyncio
import base64
import random
import time

import blurhash  # type: ignore[import-untyped]
import pytest
import pyvips  # type: ignore[import-untyped]

from tests.imgproxy.conftest import client_urls
from tests.reliability.embedded_server import EmbeddedServer
from tests.support.deadlines import scaled
from vylux_adapters.vips.thumbhash import rgba_to_thumb_hash
from vylux_core.imgproxy.url import ImgproxySigner


def url(server: EmbeddedServer, path: str) -> str:
    settings = server.config.imgproxy
    assert settings is not None
    return f"/imgproxy/{ImgproxySigner(pairs=settings.key_pairs).sign(path)}{path}"


def two_tone() -> pyvips.Image:
    """120×80: left half orange, right half teal (mean ≈ (112, 135, 86))."""
    left = pyvips.Image.black(60, 80).new_from_image([230, 120, 30]).cast("uchar")
    right = pyvips.Image.black(60, 80).new_from_image([0, 150, 140]).cast("uchar")
    return left.join(right, "horizontal")


def animated_gif() -> bytes:
    frame = pyvips.Image.black(20, 10).new_from_image([200, 30, 30]).cast("uchar")
    strip = pyvips.Image.arrayjoin([frame, frame.invert()], across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 10)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [120, 340])
    return bytes(strip.gifsave_buffer())


@pytest.fixture(scope="module", autouse=True)
def sources(server: EmbeddedServer) -> None:
    server.put_source("info/two.png", bytes(two_tone().pngsave_buffer()))
    server.put_source("info/anim.gif", animated_gif())


async def test_info_describes_the_source(server: EmbeddedServer) -> None:
    response = await server.client.get(url(server, "/info/plain/info/two.png"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    info = response.json()
    stored = (server.data_dir / "source" / "info" / "two.png").stat().st_size
    assert {k: info[k] for k in ("width", "height", "format", "bytes", "frames", "alpha")} == {
        "width": 120,
        "height": 80,
        "format": "png",
        "bytes": stored,
        "frames": 1,
        "alpha": False,
    }
    assert (info["orientation"], info["color_space"], info["delays"]) == (1, "srgb", [])
    dominant = bytes.fromhex(info["dominant_color"].removeprefix("#"))
    # One of the two halves (resampling moves a channel by a unit or two).
    assert any(
        all(abs(a - b) <= 3 for a, b in zip(dominant, half, strict=True))
        for half in ((230, 120, 30), (0, 150, 140))
    ), info["dominant_color"]
    assert len(base64.b64decode(info["thumbhash"])) >= 5


async def test_blurhash_decodes_to_the_source_mean_colour(server: EmbeddedServer) -> None:
    info = (await server.client.get(url(server, "/info/plain/info/two.png"))).json()
    pixels = blurhash.decode(info["blurhash"], 30, 20)
    count = 30 * 20
    decoded = [sum(pixel[band] for row in pixels for pixel in row) / count for band in range(3)]
    source = [two_tone()[band].avg() for band in range(3)]
    for got, want in zip(decoded, source, strict=True):
        assert abs(got - want) <= 0.1 * 255, (decoded, source)


async def test_info_of_an_animation(server: EmbeddedServer) -> None:
    info = (await server.client.get(url(server, "/info/plain/info/anim.gif"))).json()
    assert (info["format"], info["frames"], info["delays"]) == ("gif", 2, [120, 340])


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/info/w:10/plain/info/two.png", 400, "bad options: the info endpoint takes only"),
        ("/info/exp:1/plain/info/two.png", 404, "expired URL"),
        ("/info/plain/info/missing.png", 404, "source image not found"),
        ("/info/plain/http://example.com/a.png", 400, 'source scheme "http" is not allowed'),
    ],
)
async def test_info_refusals(server: EmbeddedServer, path: str, status: int, message: str) -> None:
    response = await server.client.get(url(server, path))
    assert response.status_code == status
    assert response.json()["message"].startswith(message)


async def test_info_needs_a_signature(server: EmbeddedServer) -> None:
    response = await server.client.get("/imgproxy/insecure/info/plain/info/two.png")
    assert response.status_code == 403


@pytest.mark.parametrize("display", ["plain", "base64"])
async def test_info_urls_of_the_official_client(server: EmbeddedServer, display: str) -> None:
    """imgproxy Pro's shape, ``{prefix}/info/{signature}/…``, answers the same JSON as
    ``{prefix}/{signature}/info/…``."""
    [built] = client_urls(
        server, [{"source": "info/two.png", "display": display, "options": {}, "info": True}]
    )
    assert built.startswith("/imgproxy/info/")
    response = await server.client.get(built)
    assert response.status_code == 200, response.text
    ours = await server.client.get(url(server, "/info/plain/info/two.png"))
    assert response.json() == ours.json()
    assert response.headers["etag"] == ours.headers["etag"]
    # The signature of the other shape does not verify here.
    signature = built.split("/")[3]
    refused = await server.client.get(f"/imgproxy/{signature}/info/plain/info/two.png")
    assert refused.status_code == 403


# --- caching -------------------------------------------------------------------------------------

CACHED_HASH = "e" * 64
CACHED = f"uploads/ee/{CACHED_HASH}/two.png"


def source_reads(server: EmbeddedServer) -> float:
    """Objects read from the source store so far (the storage metrics' ``get``)."""
    labels = {"role": "source", "driver": "local", "operation": "get", "result": "ok"}
    value = server.runtime.metrics.registry.get_sample_value(
        "vylux_storage_operations_total", labels
    )
    return value or 0.0


async def tracked_keys(server: EmbeddedServer, media_hash: str, count: int) -> set[str]:
    """The cleanup-tracking rows of ``media_hash`` once there are ``count`` (they are
    written behind the answer)."""
    deadline = time.monotonic() + scaled(30)
    while time.monotonic() < deadline:
        entries = await server.runtime.cache_index.list_by_hash(media_hash)
        if len(entries) >= count:
            return {entry.cache_key for entry in entries}
        await asyncio.sleep(0.05)
    raise AssertionError("the info answer was never tracked for cleanup")


async def test_info_answers_are_cached_conditional_and_purged(server: EmbeddedServer) -> None:
    server.put_source(CACHED, bytes(two_tone().pngsave_buffer()))
    path = url(server, f"/info/plain/{CACHED}")
    before = source_reads(server)

    first = await server.client.get(path)
    assert first.status_code == 200
    assert source_reads(server) == before + 1
    etag = first.headers["etag"]
    again = await server.client.get(path)
    assert (again.status_code, again.content, again.headers["etag"]) == (200, first.content, etag)
    not_modified = await server.client.get(path, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == etag
    head = await server.client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(first.content))
    assert head.headers["content-type"] == "application/json"
    # The cachebuster names another answer; expires does not.
    busted = await server.client.get(url(server, f"/info/cb:2/plain/{CACHED}"))
    assert busted.status_code == 200
    assert source_reads(server) == before + 2
    far = int(time.time()) + 3600
    expiring = await server.client.get(url(server, f"/info/exp:{far}/plain/{CACHED}"))
    assert expiring.headers["etag"] == etag
    assert source_reads(server) == before + 2

    keys = await tracked_keys(server, CACHED_HASH, 2)
    assert len(keys) == 2
    assert all(server.runtime.renditions.get(key) is not None for key in keys)
    purge = await server.client.delete(f"/api/media/{CACHED_HASH}", headers=server.api)
    assert purge.status_code == 204
    assert all(server.runtime.renditions.get(key) is None for key in keys)
    stored = [k async for k in server.runtime.media.list("cache/")]
    assert not any(f"cache/{key}.json" in stored for key in keys)

    after = await server.client.get(path)
    assert (after.status_code, after.content) == (200, first.content)
    assert source_reads(server) == before + 3


def test_thumbhash_matches_the_reference_encoder() -> None:
    """Expected values from ``rgbaToThumbHash`` of the ``thumbhash`` npm package (the
    reference) on the same seeded pixels, with and without transparency."""
    rng = random.Random(11)
    width, height = 23, 17
    rgba = [
        rng.randrange(256) if i % 4 != 3 else rng.choice([255, 255, 200, 30])
        for i in range(width * height * 4)
    ]
    opaque = [255 if i % 4 == 3 else value for i, value in enumerate(rgba)]
    encoded = base64.b64encode(rgba_to_thumb_hash(width, height, rgba)).decode()
    assert encoded == "IQiCDIILj/TGCUNTW+nwhLLP5fSZF1eWBw=="
    encoded = base64.b64encode(rgba_to_thumb_hash(width, height, opaque)).decode()
    assert encoded == "IPgBFYKJ+OS2ScZy1UKItWc/LCv5"
