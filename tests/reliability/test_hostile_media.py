"""Hostile sources and keys against the real backends of ``vylux-cli serve`` (embedded
profile: libvips, local directories, SQLite), in-process:

* decompression bombs (a PNG, JPEG and GIF declaring gigapixels in a few hundred bytes)
  are refused from the header, with bounded memory (the RSS bound is what proves that
  nothing was decoded; wall time proves nothing on a busy machine);
* a GIF or WebP of more frames than the limit is refused before decoding them;
* SVG is a blocked loader; with SVG enabled (``allow_untrusted_loaders``) librsvg
  neither fetches nor reads anything external: entities, ``<image>``, XInclude, CSS
  ``@import``, ``<use>`` and stylesheet processing instructions;
* ``..``, absolute and backslash keys, however encoded, never reach a file outside the
  source or media directory, through ``/original``, ``/thumb``, ``/img`` or a job.

The happy paths and the in-memory versions live in tests/e2e/test_http_images.py,
test_http_delivery.py and tests/integration/test_vips_image_processor.py.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips  # type: ignore[import-untyped]

from tests.reliability.embedded_server import EmbeddedServer, embedded_server
from tests.support.deadlines import scaled
from tests.support.rss import RssGrowth
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_core.errors import UnprocessableImage
from vylux_core.images.options import ImageFormat, ImageOptions
from vylux_core.jobs.job import JobStatus
from vylux_core.ports.image_processor import ImageTransform

pytestmark = [pytest.mark.reliability]

W100 = ImageOptions(width=100)
# Decoding any of the bombs would take gigabytes; the header alone needs nothing.
BOMB_RSS_BUDGET = 64 << 20


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedServer]:
    async with embedded_server(tmp_path / "data") as built:
        yield built


# --- decompression bombs -----------------------------------------------------------------------


def _small(save: str, width: int = 16, height: int = 16) -> bytearray:
    image = (pyvips.Image.black(width, height, bands=3) + 90).cast("uchar")
    return bytearray(getattr(image, save)())


def png_declaring(side: int) -> bytes:
    """A valid 16×16 PNG whose IHDR (CRC fixed) claims side×side pixels."""
    data = _small("pngsave_buffer")
    data[16:24] = struct.pack(">II", side, side)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def jpeg_declaring(side: int) -> bytes:
    """A valid 16×16 baseline JPEG whose SOF0 claims side×side pixels."""
    data = _small("jpegsave_buffer")
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def gif_declaring(side: int) -> bytes:
    """A valid 16×16 GIF whose logical screen and image descriptor claim side×side."""
    data = _small("gifsave_buffer")
    data[6:10] = struct.pack("<HH", side, side)
    descriptor = data.index(b",", 13)
    data[descriptor + 5 : descriptor + 9] = struct.pack("<HH", side, side)
    return bytes(data)


def animation(frames: int, save: str) -> bytes:
    """``frames`` distinct 4×4 frames (identical ones would be merged by the encoder)."""
    black = pyvips.Image.black(4, 4, bands=3)
    pages = [black.new_from_image([i % 256, i * 37 % 256, i * 11 % 256]) for i in range(frames)]
    strip = pyvips.Image.arrayjoin(pages, across=1).copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 4)
    return bytes(getattr(strip, save)())


@pytest.mark.parametrize(
    ("name", "build"),
    [
        pytest.param("bomb.png", lambda: png_declaring(50_000), id="png-50000x50000"),
        pytest.param("bomb.jpg", lambda: jpeg_declaring(65_500), id="jpeg-65500x65500"),
        pytest.param("bomb.gif", lambda: gif_declaring(65_535), id="gif-65535x65535"),
    ],
)
async def test_decompression_bomb_is_refused_from_the_header_with_bounded_memory(
    server: EmbeddedServer, name: str, build: object
) -> None:
    data = build()  # type: ignore[operator]
    server.put_source(name, data)
    path = f"/img/{server.signer.sign_image(W100, name, ImageFormat.WEBP)}/w100/{name}.webp"
    await server.client.get("/healthz")  # first-request costs out of the measurement

    with RssGrowth() as rss:
        response = await server.client.get(path)

    assert len(data) < 1024
    assert (response.status_code, response.json()) == (
        422,
        {"message": "image exceeds the pixel limit"},
    )
    assert rss.growth < BOMB_RSS_BUDGET


@pytest.mark.parametrize("save", ["gifsave_buffer", "webpsave_buffer"])
async def test_too_many_frames_are_refused_before_decoding(
    server: EmbeddedServer, save: str
) -> None:
    server.put_source("many-frames", animation(300, save))
    sig = server.signer.sign_image(W100, "many-frames", ImageFormat.WEBP)
    path = f"/img/{sig}/w100/many-frames.webp"
    response = await server.client.get(path)
    assert (response.status_code, response.json()) == (
        422,
        {"message": "animated image exceeds frame limit"},
    )


# --- SVG ---------------------------------------------------------------------------------------


class Listener:
    """A loopback TCP server that records every connection (an external fetch)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.requests: list[bytes] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1.0)
                self.requests.append(connection.recv(1024))

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as running:
        yield running


SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="40">'
PLAIN_SVG = SVG_OPEN + '<rect width="30" height="20" fill="#0a0"/></svg>'


def external_svgs(port: int, local_png: Path) -> dict[str, str]:
    """SVGs whose only difference from PLAIN_SVG is content fetched from elsewhere."""
    url = f"http://127.0.0.1:{port}"
    rect = '<rect width="30" height="20" fill="#0a0"/>'
    xlink = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
    return {
        "entity-http": (
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{url}/entity">]>'
            f"{SVG_OPEN}{rect}<text y='30'>&x;</text></svg>"
        ),
        "entity-file": (
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{local_png}">]>'
            f"{SVG_OPEN}{rect}<text y='30'>&x;</text></svg>"
        ),
        "image-http": SVG_OPEN.replace("<svg ", f"<svg {xlink} ")
        + f'{rect}<image href="{url}/a.png" width="60" height="40"/>'
        + f'<image xlink:href="{url}/b.png" width="60" height="40"/></svg>',
        "image-file": (
            f'{SVG_OPEN}{rect}<image href="file://{local_png}" width="60" height="40"/></svg>'
        ),
        "xinclude": SVG_OPEN.replace("<svg ", '<svg xmlns:xi="http://www.w3.org/2001/XInclude" ')
        + f'{rect}<xi:include href="{url}/xi" parse="text"/></svg>',
        "css-import": f"{SVG_OPEN}<style>@import url({url}/style.css);</style>{rect}</svg>",
        "use-external": f'{SVG_OPEN}{rect}<use href="{url}/sprite.svg#a"/></svg>',
        "stylesheet-pi": f'<?xml-stylesheet href="{url}/pi.css" type="text/css"?>{PLAIN_SVG}',
        # The control: the same picture inline as a data: URI is drawn, so a loaded
        # file or fetch above would have changed the pixels too.
        "image-data-uri": (
            f"{SVG_OPEN}{rect}<image href='data:image/png;base64,"
            f"{base64.b64encode(local_png.read_bytes()).decode()}' width='60' height='40'/></svg>"
        ),
    }


async def test_svg_is_a_blocked_loader(server: EmbeddedServer, listener: Listener) -> None:
    _plant_outside_files(server)
    for name, svg in external_svgs(listener.port, server.data_dir / "outside.png").items():
        server.put_source(f"{name}.svg", svg.encode())
        key = f"{name}.svg"
        path = f"/img/{server.signer.sign_image(W100, key, ImageFormat.PNG)}/w100/{key}.png"
        response = await server.client.get(path)
        assert (response.status_code, response.json()) == (
            422,
            {"message": "unsupported source image type"},
        ), name
    assert listener.requests == []


async def test_enabled_svg_fetches_and_reads_nothing_external(
    tmp_path: Path, listener: Listener
) -> None:
    red = tmp_path / "red.png"
    red_pixels = pyvips.Image.black(60, 40, bands=3).new_from_image([255, 0, 0])
    red.write_bytes(bytes(red_pixels.copy(interpretation="srgb").pngsave_buffer()))
    processor = PyvipsImageProcessor(allow_untrusted_loaders=True, threads=1)
    to_png = ImageTransform(format=ImageFormat.PNG, quality=0, width=None, height=None)
    try:
        plain = (await processor.transform(PLAIN_SVG.encode(), to_png)).data
        outcomes: dict[str, str] = {}
        for name, svg in external_svgs(listener.port, red).items():
            try:
                rendition = await processor.transform(svg.encode(), to_png)
            except UnprocessableImage as error:
                outcomes[name] = str(error)
            else:
                # Whatever was referenced (a red PNG, a stylesheet) left no pixel behind.
                outcomes[name] = "same as plain" if rendition.data == plain else "differs"
        await asyncio.sleep(0.3)  # a fetch started by a libvips thread would land by now
    finally:
        await processor.aclose()

    assert outcomes == {
        # librsvg refuses a DTD with external entities outright.
        "entity-http": "unprocessable source image",
        "entity-file": "unprocessable source image",
        "image-http": "same as plain",
        "image-file": "same as plain",
        "xinclude": "same as plain",
        "css-import": "same as plain",
        "use-external": "same as plain",
        "stylesheet-pi": "same as plain",
        "image-data-uri": "differs",
    }
    assert listener.requests == []


# --- keys outside the store --------------------------------------------------------------------

OUTSIDE = "../outside.png"
RELATIVE_ONLY = "object keys must be relative, without empty, '.' or '..' segments"
NO_BACKSLASH = "object keys must not contain NUL or backslashes"


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        pytest.param(OUTSIDE, 400, RELATIVE_ONLY, id="dot-dot"),
        pytest.param("../secrets.env", 400, RELATIVE_ONLY, id="dot-dot-secrets"),
        pytest.param("a/../../outside.png", 400, RELATIVE_ONLY, id="inner-dot-dot"),
        pytest.param("/etc/passwd", 400, RELATIVE_ONLY, id="absolute"),
        pytest.param("./a.png", 400, RELATIVE_ONLY, id="dot"),
        pytest.param("a//b.png", 400, RELATIVE_ONLY, id="empty-segment"),
        pytest.param(
            "..\\outside.png",
            400,
            "object keys must not contain NUL or backslashes",
            id="backslash",
        ),
        # Decoded once: these name files literally called "%2e%2e", which do not exist.
        pytest.param("%2e%2e/outside.png", 404, None, id="double-encoded-dot-dot"),
        pytest.param("%2E%2E%2Foutside.png", 404, None, id="double-encoded-slash"),
    ],
)
async def test_signed_keys_outside_the_store_are_refused(
    server: EmbeddedServer, key: str, status: int, message: str | None
) -> None:
    """Even a correctly signed URL (the signer signed whatever it was asked) stays inside."""
    outside = _plant_outside_files(server)
    signer = server.signer
    encoded = quote(key, safe="")
    responses = {
        "original": await server.client.get(f"/original/{signer.sign_original(key)}/{encoded}"),
        "thumb": await server.client.get(f"/thumb/{signer.sign_thumb(key)}/{encoded}"),
        "img": await server.client.get(
            f"/img/{signer.sign_image(W100, key, ImageFormat.PNG)}/w100/{encoded}.png"
        ),
    }
    for route, response in responses.items():
        assert response.status_code == status, (route, response.text)
        if message is not None:
            assert response.json() == {"message": message}, route
        assert outside not in response.content


async def test_raw_dot_dot_segments_are_not_resolved(server: EmbeddedServer) -> None:
    outside = _plant_outside_files(server)
    sig = server.signer.sign_original(OUTSIDE).encode()
    for raw in (
        b"/original/" + sig + b"/../outside.png",
        b"/original/" + sig + b"/..%2Foutside.png",
    ):
        status, body = await server.raw_get(raw)
        assert status == 400, raw
        assert outside not in body
    status, _ = await server.raw_get(b"/stream/abcdef1234567890/../../source/x.png")
    assert status == 400


async def test_job_with_a_source_outside_the_store_fails_without_reading_it(
    server: EmbeddedServer,
) -> None:
    _plant_outside_files(server)
    body = {"type": "image:thumbnail", "hash": "traversal-1", "source": OUTSIDE}
    response = await server.client.post("/api/jobs", json=body, headers=server.api)
    assert response.status_code == 202  # sources are opaque; thumbnails have no preflight
    job_id = response.json()["job_id"]

    async with server.worker(), asyncio.timeout(scaled(30.0)):
        while not (job := await server.runtime.jobs.get(job_id)).status.is_terminal:
            await asyncio.sleep(0.05)

    assert job.status is JobStatus.FAILED
    assert not list((server.data_dir / "media").rglob("*.webp"))


def _plant_outside_files(server: EmbeddedServer) -> bytes:
    """A real PNG right beside the source directory: what a traversal would reach."""
    png = bytes(_small("pngsave_buffer"))
    (server.data_dir / "outside.png").write_bytes(png)
    server.put_source("a.png", png)
    return png
