"""One embedded ``vylux-cli serve`` app per module, with generated sources, and URLs
built by the official imgproxy client (``@imgproxy/imgproxy-node`` from npm, installed
by ``.ci/run``; without it the compatibility tests skip locally and fail in CI)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import pyvips  # type: ignore[import-untyped]

from tests.reliability.embedded_server import EmbeddedServer, embedded_server
from tests.support.services import service_unavailable

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / ".node"
CLIENT = NODE_DIR / "node_modules" / "@imgproxy" / "imgproxy-node"
INSTALL = (
    "npm install --prefix tests/imgproxy/.node --no-audit --no-fund --loglevel=error "
    "@imgproxy/imgproxy-node@1"
)
ENDPOINT = "http://vylux.test/imgproxy"
PRESETS = "thumb=rs:fill:64:64/f:png,square=rs:fill:50:50"
WATERMARK = "marks/logo.png"
# Far above every rendition of the suite, low enough for a test source to exceed.
MAX_RESULT_PIXELS = 1_000_000


def watermark_png() -> bytes:
    """20×10 opaque pure blue."""
    blue = pyvips.Image.black(20, 10).new_from_image([0, 0, 255]).cast("uchar")
    return bytes(blue.pngsave_buffer())


def landscape_jpeg() -> bytes:
    """400×300: a horizontal gradient, so crops and flips are told apart."""
    ramp = pyvips.Image.xyz(400, 300)[0] * (255 / 399)
    image = ramp.bandjoin([ramp * 0 + 80, 255 - ramp]).cast("uchar")
    return bytes(image.jpegsave_buffer(Q=90))


def portrait_png_with_alpha() -> bytes:
    """300×400 with a half-transparent alpha channel."""
    image = pyvips.Image.black(300, 400).new_from_image([20, 160, 40]).cast("uchar")
    return bytes(image.bandjoin(128).cast("uchar").pngsave_buffer())


def rotated_jpeg() -> bytes:
    """Stored 400×300 with EXIF orientation 6: displayed 300×400."""
    image = pyvips.Image.black(400, 300).new_from_image([90, 90, 200]).cast("uchar").copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return bytes(image.jpegsave_buffer())


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedServer]:
    data = tmp_path_factory.mktemp("imgproxy") / "data"
    settings = {
        "IMGPROXY_PRESETS": PRESETS,
        "IMGPROXY_WATERMARK_PATH": WATERMARK,
        "IMAGE_MAX_RESULT_PIXELS": str(MAX_RESULT_PIXELS),
    }
    async with embedded_server(data, **settings) as built:
        built.put_source(WATERMARK, watermark_png())
        built.put_source("photos/a.jpg", landscape_jpeg())
        built.put_source("photos/b.png", portrait_png_with_alpha())
        built.put_source("photos/r.jpg", rotated_jpeg())
        yield built


def client_urls(server: EmbeddedServer, cases: Sequence[dict[str, Any]]) -> list[str]:
    """The paths (after the host) the official client builds for ``cases``."""
    node = shutil.which("node")
    if node is None or not CLIENT.is_dir():
        service_unavailable("@imgproxy/imgproxy-node", f"install it with: {INSTALL}")
    settings = server.config.imgproxy
    assert settings is not None
    pair = settings.key_pairs[0]
    script = NODE_DIR / "build_urls.mjs"
    shutil.copyfile(HERE / "build_urls.mjs", script)  # resolves the client from .node
    request = {
        "endpoint": ENDPOINT,
        "key": pair.key.hex(),
        "salt": pair.salt.hex(),
        "cases": list(cases),
    }
    done = subprocess.run(
        [node, str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    urls = json.loads(done.stdout)
    return [url.removeprefix("http://vylux.test") for url in urls]
