"""The imgproxy route family on the production app: signatures, refusals, sources,
format negotiation, smart crop and the caching it shares with ``/img``."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
import pyvips  # type: ignore[import-untyped]
from click.testing import CliRunner

from tests.reliability.embedded_server import EmbeddedServer
from tests.support.deadlines import scaled
from vylux_cli.main import cli
from vylux_core.imgproxy.url import ImgproxySigner

CONTENT_HASH = "c" * 64
HASHED = f"uploads/cc/{CONTENT_HASH}/photo.jpg"


def signer_of(server: EmbeddedServer) -> ImgproxySigner:
    settings = server.config.imgproxy
    assert settings is not None
    return ImgproxySigner(pairs=settings.key_pairs)


def url(server: EmbeddedServer, path: str) -> str:
    return f"/imgproxy/{signer_of(server).sign(path)}{path}"


def smart_subject() -> bytes:
    """600×200 flat grey with one 60×60 patch of noise near the right edge."""
    grey = pyvips.Image.black(600, 200).new_from_image([128, 128, 128]).cast("uchar")
    noise = pyvips.Image.gaussnoise(60, 60, sigma=90, mean=128).cast("uchar")
    patch = noise.bandjoin([noise, noise])
    return bytes(grey.insert(patch, 500, 70).pngsave_buffer())


@pytest.fixture(scope="module", autouse=True)
def sources(server: EmbeddedServer) -> None:
    server.put_source("smart.png", smart_subject())
    server.put_source(HASHED, bytes(pyvips.Image.black(40, 30).jpegsave_buffer()))


# --- malformed options ---------------------------------------------------------------------------

MALFORMED = [
    ("foo:1", 'bad options: unknown option: "foo"'),
    ("w:abc", 'bad options: invalid w arguments: "abc"'),
    ("width:1:2", 'bad options: invalid width arguments: "1:2"'),
    ("w:9000", 'bad options: invalid w arguments: "9000"'),
    ("rs:bogus:10:10", 'bad options: invalid rs arguments: "bogus:10:10"'),
    ("resizing_type:cover", 'bad options: invalid resizing_type arguments: "cover"'),
    ("g:middle", 'bad options: invalid g arguments: "middle"'),
    ("g:fp:2:0.5", 'bad options: invalid g arguments: "fp:2:0.5"'),
    ("q:101", 'bad options: invalid q arguments: "101"'),
    ("rot:45", 'bad options: invalid rot arguments: "45" (a multiple of 90 expected)'),
    ("fl:maybe", 'bad options: invalid fl arguments: "maybe"'),
    ("bg:zzzzzz", 'bad options: invalid bg arguments: "zzzzzz"'),
    ("dpr:0", 'bad options: invalid dpr arguments: "0"'),
    ("z:-1", 'bad options: invalid z arguments: "-1"'),
    ("c:abc:10", 'bad options: invalid c arguments: "abc:10"'),
    ("f:bmp", 'bad options: unsupported f: "bmp"'),
    ("pd:a", 'bad options: invalid pd arguments: "a"'),
    ("bl:x", 'bad options: invalid bl arguments: "x"'),
    ("sh:11", 'bad options: invalid sh arguments: "11"'),
    ("exp:soon", 'bad options: invalid exp arguments: "soon"'),
    ("pr:nope", 'bad options: unknown preset: "nope"'),
    ("sm:maybe", 'bad options: invalid sm arguments: "maybe"'),
    ("el", 'bad options: invalid el arguments: ""'),
    ("wm:2", 'bad options: invalid wm arguments: "2"'),
    ("wm:1:sm", 'bad options: invalid wm arguments: "1:sm"'),
    ("t:abc", 'bad options: invalid t arguments: "abc"'),
    ("mb:x", 'bad options: invalid mb arguments: "x"'),
    ("skp:bmp", 'bad options: invalid skp arguments: "bmp"'),
    ("rs:fill:2000:2000", "bad options: 2000x2000 is 4000000 pixels, more than the result limit"),
]


@pytest.mark.parametrize(("option", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_option_is_a_400_naming_it(
    server: EmbeddedServer, option: str, message: str
) -> None:
    response = await server.client.get(url(server, f"/{option}/plain/photos/a.jpg"))
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


async def test_unknown_extension_is_a_400(server: EmbeddedServer) -> None:
    response = await server.client.get(url(server, "/w:10/plain/photos/a.jpg@bmp"))
    assert response.status_code == 400
    assert response.json()["message"] == 'bad options: unsupported format: "bmp"'


@pytest.mark.parametrize(
    "tail",
    ["/w:20/plain/photos/a.jpg@jxl", "/w:20/f:jxl/plain/photos/a.jpg"],
    ids=["extension", "option"],
)
async def test_jxl_is_a_400_saying_why(server: EmbeddedServer, tail: str) -> None:
    response = await server.client.get(url(server, tail))
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("bad options: unsupported ")
    assert "the bundled libvips has no JPEG XL encoder" in message


# --- TIFF output ---------------------------------------------------------------------------------


def _base64(source: str) -> str:
    return base64.urlsafe_b64encode(source.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("tail", "size", "bands"),
    [
        ("/rs:fit:40:40/plain/photos/a.jpg@tiff", (40, 30), 3),
        (f"/w:30/{_base64('photos/a.jpg')}.tif", (30, 23), 3),
        ("/f:tiff/rs:fill:20:20/plain/photos/b.png", (20, 20), 4),
        # Stored sideways with EXIF orientation 6: upright pixels, no tag to turn them.
        ("/w:30/plain/photos/r.jpg@tiff", (30, 40), 3),
        ("/ar:0/w:40/plain/photos/r.jpg@tiff", (40, 30), 3),
    ],
    ids=["plain-extension", "base64-tif", "format-option-alpha", "rotated", "not-rotated"],
)
async def test_tiff_output(
    server: EmbeddedServer, tail: str, size: tuple[int, int], bands: int
) -> None:
    response = await server.client.get(url(server, tail))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/tiff"
    assert "vary" not in response.headers
    assert response.headers["content-disposition"].endswith('.tiff"')
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert image.get("vips-loader") == "tiffload_buffer"
    assert ((image.width, image.height), image.bands) == (size, bands)
    assert image.get("orientation") == 1


# --- signatures ----------------------------------------------------------------------------------


async def test_wrong_and_insecure_signatures_are_refused(server: EmbeddedServer) -> None:
    good = url(server, "/w:10/plain/photos/a.jpg")
    for bad in (
        good.replace("/w:10/", "/w:11/"),
        "/imgproxy/insecure/w:10/plain/photos/a.jpg",
        "/imgproxy/_/w:10/plain/photos/a.jpg",
    ):
        response = await server.client.get(bad)
        assert response.status_code == 403, bad
        assert response.json() == {"message": "invalid signature"}


async def test_expired_url_is_a_404(server: EmbeddedServer) -> None:
    past = int(time.time()) - 10
    response = await server.client.get(url(server, f"/exp:{past}/w:10/plain/photos/a.jpg"))
    assert response.status_code == 404
    assert response.json() == {"message": "expired URL"}


# --- sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        ("http://example.com/a.jpg", 400, 'source scheme "http" is not allowed'),
        ("https://example.com/a.jpg", 400, 'source scheme "https" is not allowed'),
        ("s3://other-bucket/a.jpg", 400, 'source bucket "other-bucket" is not'),
        ("local://photos/a.jpg", 400, "local:// sources must be absolute"),
        ("photos/../photos/a.jpg", 400, "invalid source key"),
        ("photos/missing.jpg", 404, "source image not found"),
    ],
)
async def test_sources_come_from_the_source_store_only(
    server: EmbeddedServer, source: str, status: int, message: str
) -> None:
    for form in ("plain", "base64"):
        encoded = base64.urlsafe_b64encode(source.encode()).decode().rstrip("=")
        path = f"/w:10/plain/{source}" if form == "plain" else f"/w:10/{encoded}"
        # Sent as is: httpx would resolve "..".
        got, body = await server.raw_get(url(server, path).encode())
        assert got == status, (form, source)
        assert json.loads(body)["message"].startswith(message)


async def test_percent_encoded_plain_source_is_decoded_once(server: EmbeddedServer) -> None:
    server.put_source("photos/with space%.jpg", bytes(pyvips.Image.black(8, 8).jpegsave_buffer()))
    response = await server.client.get(url(server, "/w:4/plain/photos/with%20space%25.jpg@png"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


# --- Accept negotiation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "source", "expected"),
    [
        ("image/avif,image/webp,*/*", "photos/a.jpg", "image/avif"),
        ("image/webp,*/*;q=0.8", "photos/a.jpg", "image/webp"),
        ("image/avif;q=0,image/webp", "photos/a.jpg", "image/webp"),
        ("*/*", "photos/a.jpg", "image/jpeg"),
        ("*/*", "photos/b.png", "image/png"),
        ("", "photos/b.png", "image/png"),
    ],
)
async def test_format_follows_accept_with_vary(
    server: EmbeddedServer, accept: str, source: str, expected: str
) -> None:
    response = await server.client.get(
        url(server, f"/w:20/plain/{source}"), headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.headers["vary"] == "Accept"
    assert pyvips.Image.new_from_buffer(response.content, "").width == 20


async def test_explicit_extension_answers_without_vary(server: EmbeddedServer) -> None:
    response = await server.client.get(
        url(server, "/w:20/plain/photos/a.jpg@png"), headers={"Accept": "image/avif"}
    )
    assert response.headers["content-type"] == "image/png"
    assert "vary" not in response.headers


# --- smart crop ----------------------------------------------------------------------------------


async def test_smart_gravity_keeps_the_detailed_subject(server: EmbeddedServer) -> None:
    """fill 200×200 of 600×200: the centre crop (200–400) misses the patch at 500–560."""
    deviations = {}
    for gravity in ("ce", "sm"):
        response = await server.client.get(
            url(server, f"/rs:fill:200:200/g:{gravity}/plain/smart.png@png")
        )
        assert response.status_code == 200
        image = pyvips.Image.new_from_buffer(response.content, "")
        assert (image.width, image.height) == (200, 200)
        deviations[gravity] = image.deviate()
    assert deviations["ce"] < 1
    assert deviations["sm"] > 20


# --- caching shared with /img --------------------------------------------------------------------


async def _tracked(server: EmbeddedServer) -> list[str]:
    deadline = time.monotonic() + scaled(30)
    while time.monotonic() < deadline:
        entries = await server.runtime.cache_index.list_by_hash(CONTENT_HASH)
        if entries:
            return [entry.cache_key for entry in entries]
        await asyncio.sleep(0.05)
    raise AssertionError("the rendition was never tracked for cleanup")


async def _stored(server: EmbeddedServer, storage_key: str) -> bool:
    """Whether the media store holds ``storage_key`` by the deadline: the copy is written
    behind the answer, after its cleanup-tracking row."""
    deadline = time.monotonic() + scaled(30)
    while time.monotonic() < deadline:
        if storage_key in [k async for k in server.runtime.media.list("cache/")]:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_storage_hit_and_purge_by_media_hash(server: EmbeddedServer) -> None:
    path = url(server, f"/w:20/plain/{HASHED}")
    first = await server.client.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    [key] = await _tracked(server)
    assert await _stored(server, f"cache/{key}.img")
    # Out of memory: the storage copy answers, its format recognised from its bytes.
    assert server.runtime.renditions.discard(key)
    again = await server.client.get(path)
    assert again.status_code == 200
    assert again.headers["content-type"] == "image/jpeg"
    assert again.headers["etag"] == first.headers["etag"]

    purge = await server.client.delete(f"/api/media/{CONTENT_HASH}", headers=server.api)

    assert purge.status_code == 204
    assert await server.runtime.cache_index.list_by_hash(CONTENT_HASH) == []
    assert f"cache/{key}.img" not in [k async for k in server.runtime.media.list("cache/")]
    assert server.runtime.renditions.get(key) is None


# --- vylux-cli sign imgproxy ---------------------------------------------------------------------


@pytest.mark.parametrize("form", [[], ["--base64"]], ids=["plain", "base64"])
async def test_cli_signs_urls_the_server_accepts(server: EmbeddedServer, form: list[str]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["sign", "imgproxy", "photos/a.jpg", "-o", "rs:fill:30:20/g:sm", "-f", "png", *form],
        env={"VYLUX_DATA_DIR": str(server.data_dir), "BASE_URL": "http://vylux.test"},
    )
    assert result.exit_code == 0, result.output
    printed = result.output.strip().splitlines()[-1]  # after the start-up log line
    assert printed.startswith("http://vylux.test/imgproxy/")
    response = await server.client.get(printed)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (30, 20)


@pytest.mark.parametrize("form", [[], ["--base64"], ["-o", "cb:7"]], ids=["plain", "base64", "cb"])
async def test_cli_signs_info_urls_the_server_accepts(
    server: EmbeddedServer, form: list[str]
) -> None:
    result = CliRunner().invoke(
        cli,
        ["sign", "imgproxy", "photos/b.png", "--info", *form],
        env={"VYLUX_DATA_DIR": str(server.data_dir), "BASE_URL": "http://vylux.test"},
    )
    assert result.exit_code == 0, result.output
    printed = result.output.strip().splitlines()[-1]
    assert "/info/" in printed
    response = await server.client.get(printed)
    assert response.status_code == 200
    assert (response.json()["width"], response.json()["alpha"]) == (300, True)


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["-o", "w:10"], "the info endpoint takes only expires and cachebuster"),
        (["-f", "png"], "the info endpoint answers JSON: no format"),
    ],
)
def test_cli_refuses_info_options(server: EmbeddedServer, more: list[str], message: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["sign", "imgproxy", "photos/b.png", "--info", *more],
        env={"VYLUX_DATA_DIR": str(server.data_dir)},
    )
    assert result.exit_code != 0
    assert message in result.output


def test_cli_refuses_bad_options(server: EmbeddedServer) -> None:
    result = CliRunner().invoke(
        cli,
        ["sign", "imgproxy", "photos/a.jpg", "-o", "nope:1"],
        env={"VYLUX_DATA_DIR": str(server.data_dir)},
    )
    assert result.exit_code != 0
    assert 'unknown option: "nope"' in result.output


async def test_format_best_keeps_the_smallest_encoding(server: EmbeddedServer) -> None:
    best = await server.client.get(url(server, "/w:120/f:best/plain/photos/a.jpg"))
    assert best.status_code == 200
    assert "vary" not in best.headers
    sizes = {}
    for fmt in ("jpg", "webp", "avif"):
        response = await server.client.get(url(server, f"/w:120/f:{fmt}/plain/photos/a.jpg"))
        sizes[response.headers["content-type"]] = len(response.content)
    smallest = min(sizes, key=lambda name: sizes[name])
    assert best.headers["content-type"] == smallest
    assert len(best.content) == sizes[smallest]


def framed() -> bytes:
    """100×60 white with a 40×20 red block at (10, 30): trim leaves the block."""
    white = pyvips.Image.black(100, 60).new_from_image([255, 255, 255]).cast("uchar")
    red = pyvips.Image.black(40, 20).new_from_image([200, 0, 0]).cast("uchar")
    return bytes(white.insert(red, 10, 30).pngsave_buffer())


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ("t:10", (40, 20)),
        ("t:10:ffffff", (40, 20)),
        ("t:10::1", (80, 20)),  # equal horizontal: 10 px off both sides
        ("t:10:::1", (40, 40)),  # 30 above, 10 below: 10 off both
        ("t:10/w:20", (20, 10)),
        ("t:10/rot:90", (20, 40)),
    ],
)
async def test_trim(server: EmbeddedServer, options: str, size: tuple[int, int]) -> None:
    server.put_source("framed.png", framed())
    response = await server.client.get(url(server, f"/{options}/plain/framed.png@png"))
    assert response.status_code == 200, response.text
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == size


def grey_png() -> bytes:
    return bytes(
        pyvips.Image.black(100, 50).new_from_image([128, 128, 128]).cast("uchar").pngsave_buffer()
    )


@pytest.mark.parametrize(
    ("options", "blue_at", "grey_at"),
    [
        ("wm:1:soea", (95, 45), (5, 5)),  # bottom-right corner, 20×10
        ("wm:1:nowe:5:5", (10, 8), (2, 2)),  # offsets from the top-left
        ("wm:1:re", (5, 5), None),  # tiled over everything
        ("wm:1:ce:0:0:0.5", (50, 25), (10, 25)),  # 50 px wide (half the result)
    ],
)
async def test_watermark(
    server: EmbeddedServer,
    options: str,
    blue_at: tuple[int, int],
    grey_at: tuple[int, int] | None,
) -> None:
    server.put_source("grey.png", grey_png())
    response = await server.client.get(url(server, f"/{options}/plain/grey.png@png"))
    assert response.status_code == 200, response.text
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (100, 50)
    assert image(*blue_at)[:3] == [0, 0, 255]
    if grey_at is not None:
        assert image(*grey_at)[:3] == [128, 128, 128]


async def test_watermark_opacity_blends(server: EmbeddedServer) -> None:
    server.put_source("grey.png", grey_png())
    response = await server.client.get(url(server, "/wm:0.5:ce/plain/grey.png@png"))
    pixel = pyvips.Image.new_from_buffer(response.content, "")(50, 25)[:3]
    assert [abs(a - b) <= 2 for a, b in zip(pixel, [64, 64, 191], strict=True)] == [True] * 3


async def test_trim_needs_the_source_within_the_result_budget(server: EmbeddedServer) -> None:
    """Trim decodes the whole source: 1100×1000 is over the suite's 1 MP budget."""
    big = pyvips.Image.black(1100, 1000).new_from_image([255, 255, 255]).cast("uchar")
    server.put_source("big.png", bytes(big.pngsave_buffer()))
    trimmed = await server.client.get(url(server, "/t:10/w:100/plain/big.png@png"))
    assert trimmed.status_code == 422
    assert "exceeds the result limit" in trimmed.json()["message"]
    plain = await server.client.get(url(server, "/w:100/plain/big.png@png"))
    assert plain.status_code == 200


def animation() -> bytes:
    """Three 40×20 frames (red, green, blue), 100 ms each."""
    frames = [
        pyvips.Image.black(40, 20).new_from_image(colour).cast("uchar")
        for colour in ([255, 0, 0], [0, 255, 0], [0, 0, 255])
    ]
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", 20)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
    return bytes(strip.gifsave_buffer())


@pytest.mark.parametrize(
    ("options", "accept", "content_type", "pages", "size"),
    [
        ("/rs:fill:20:20/plain/anim.gif@gif", "*/*", "image/gif", 3, (20, 20)),
        ("/rs:fill:20:20/g:sm/plain/anim.gif@webp", "*/*", "image/webp", 3, (20, 20)),
        ("/w:20/rot:90/pd:2/plain/anim.gif", "*/*", "image/gif", 3, (24, 44)),
        ("/w:20/plain/anim.gif", "image/webp", "image/webp", 3, (20, 10)),
        ("/w:20/plain/anim.gif@png", "*/*", "image/png", 1, (20, 10)),
    ],
)
async def test_animated_sources_stay_animated_in_gif_and_webp(
    server: EmbeddedServer,
    options: str,
    accept: str,
    content_type: str,
    pages: int,
    size: tuple[int, int],
) -> None:
    server.put_source("anim.gif", animation())
    response = await server.client.get(url(server, options), headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    image = pyvips.Image.new_from_buffer(response.content, "n=-1" if pages > 1 else "")
    assert image.get_n_pages() == pages
    page_height = image.get("page-height") if pages > 1 else image.height
    assert (image.width, page_height) == size
    if pages > 1:
        # Frames keep their order: the middle one is green.
        middle = image.crop(0, page_height, image.width, page_height)
        red, green, _blue = middle(image.width // 2, page_height // 2)[:3]
        assert green > 200
        assert red < 50


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("options", "disposition"),
    [
        # imgproxy's own value for a plain name: the source's base name, no filename*.
        ("/w:20", 'inline; filename="photo.webp"'),
        (f"/w:20/fn:{b64('menu 2')}:1/att:1", 'attachment; filename="menu 2.webp"'),
        # Other names keep an ASCII stand-in and give the real one as filename*.
        (
            f"/w:20/fn:{b64('café')}:1",
            "inline; filename=\"caf_.webp\"; filename*=UTF-8''caf%C3%A9.webp",
        ),
        (
            "/w:20/fn:" + b64('say "hi"') + ":1",
            "inline; filename=\"say _hi_.webp\"; filename*=UTF-8''say%20%22hi%22.webp",
        ),
    ],
    ids=["source-name", "ascii-attachment", "non-ascii", "quotes"],
)
async def test_content_disposition(server: EmbeddedServer, options: str, disposition: str) -> None:
    response = await server.client.get(url(server, f"{options}/plain/{HASHED}@webp"))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == disposition
