"""PyvipsImageProcessor against the real libvips: geometry, limits, loaders, animation."""

from __future__ import annotations

import asyncio
import resource
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips import PyvipsImageProcessor, VipsLimits, transform_sync
from vylux_adapters.vips.errors import vips_errors
from vylux_adapters.vips.export import encode
from vylux_core.errors import ProcessingFailed, UnprocessableImage
from vylux_core.images.options import REFERENCE_FORMATS, ImageFormat
from vylux_core.images.result_budget import ResultBudget
from vylux_core.ports.image_processor import ImageRendition, ImageTransform

WEBP, AVIF, JPG, PNG, GIF = (
    ImageFormat.WEBP,
    ImageFormat.AVIF,
    ImageFormat.JPG,
    ImageFormat.PNG,
    ImageFormat.GIF,
)
ANIMATED_TO_STATIC = "animated image cannot be converted to static format (use webp or gif output)"
RED = [255, 0, 0]


# --- sources, generated at test time --------------------------------------------------


def _with_int(image: Any, name: str, value: int) -> Any:
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, name, value)
    return image


def photo_jpeg() -> bytes:
    """640×480 as stored, EXIF orientation 6 (display 480×640), red block stored top-left."""
    noise = pyvips.Image.gaussnoise(640, 480, mean=128, sigma=40)
    image = noise.bandjoin([noise, noise]).cast("uchar").copy(interpretation="srgb")
    image = image.draw_rect(RED, 0, 0, 100, 60, fill=True)
    return bytes(_with_int(image, "orientation", 6).jpegsave_buffer(Q=90))


def alpha_png() -> bytes:
    """40×30 RGBA: left half fully transparent, right half opaque blue."""
    rgb = pyvips.Image.black(40, 30).new_from_image([0, 0, 255])
    alpha = pyvips.Image.black(40, 30).draw_rect([255], 20, 0, 20, 30, fill=True)
    return bytes(rgb.bandjoin(alpha).cast("uchar").copy(interpretation="srgb").pngsave_buffer())


def animation(save: str, orientation: int = 1) -> bytes:
    """3 frames of 60×40, each a different colour, 100/200/300 ms."""
    frames = [
        pyvips.Image.black(60, 40).new_from_image([i * 100, 50, 200 - i * 50]) for i in range(3)
    ]
    strip = pyvips.Image.arrayjoin(frames, across=1).cast("uchar").copy(interpretation="srgb")
    strip = _with_int(_with_int(strip, "page-height", 40), "loop", 0)
    if orientation != 1:
        strip = _with_int(strip, "orientation", orientation)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100, 200, 300])
    return bytes(getattr(strip, save)())


def plain_png(width: int, height: int) -> bytes:
    return bytes((pyvips.Image.black(width, height, bands=3) + 90).cast("uchar").pngsave_buffer())


def bomb_png(side: int = 50_000) -> bytes:
    """A PNG that declares side×side RGB pixels but holds only a few rows of zeros."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = b"\0" * (side * 3 + 1)
    data = b"".join(packer.compress(row) for _ in range(64)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
    b'<rect width="100" height="50" fill="red"/></svg>'
)


@pytest.fixture(scope="module")
def sources() -> dict[str, bytes]:
    return {
        "photo": photo_jpeg(),
        "alpha": alpha_png(),
        "gif": animation("gifsave_buffer"),
        "webp": animation("webpsave_buffer"),
        "webp-rotated": animation("webpsave_buffer", orientation=6),
        "tiny": plain_png(2, 2),
        "tall": plain_png(10, 1000),
        "wide": plain_png(1000, 10),
        "huge": plain_png(10_000, 10),
        "svg": SVG,
        "bomb": bomb_png(),
        "corrupt": b"not-a-valid-image",
        "empty": b"",
        "matrix": b"2 2\n1 2\n3 4\n",
    }


@pytest.fixture
def processor() -> Iterator[PyvipsImageProcessor]:
    processor = PyvipsImageProcessor(threads=4)
    yield processor
    processor.close()


# --- helpers ----------------------------------------------------------------------------


def detect_format(data: bytes) -> ImageFormat | None:
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    if data[4:12] == b"ftypavif":
        return AVIF
    if data.startswith(b"\xff\xd8\xff"):
        return JPG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    return None


def decoded(data: bytes) -> Any:
    """All frames where the format has frames (other loaders refuse the ``n`` option)."""
    options = "n=-1" if detect_format(data) in (WEBP, GIF) else ""
    return pyvips.Image.new_from_buffer(data, options)


def field(image: Any, name: str) -> Any:
    return image.get(name) if image.get_typeof(name) else None


def is_red(pixel: list[float]) -> bool:
    red, green, blue = pixel[:3]
    return red > 200 and green < 60 and blue < 60  # JPEG is lossy


def transform(
    fmt: ImageFormat, width: int | None = None, height: int | None = None, q: int = 0
) -> ImageTransform:
    """``q`` 0 = the format's default, as the services pass it."""
    return ImageTransform(format=fmt, quality=q or fmt.default_quality, width=width, height=height)


# --- geometry and formats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "request_", "size", "pages"),
    [
        pytest.param("tiny", transform(WEBP, 64), (64, 64), 1, id="i1-2x2-png-w64-fits-64x64"),
        pytest.param("photo", transform(WEBP, 100, 50), (100, 50), 1, id="cover-w-and-h"),
        pytest.param("photo", transform(JPG, 300, 300), (300, 300), 1, id="cover-square-jpg"),
        pytest.param("photo", transform(WEBP, 240), (240, 320), 1, id="fit-width-only-rotated"),
        pytest.param("photo", transform(WEBP, None, 320), (240, 320), 1, id="fit-height-only"),
        pytest.param("photo", transform(WEBP), (480, 640), 1, id="no-resize-rotated"),
        pytest.param("photo", transform(PNG, 0, 0), (480, 640), 1, id="zero-means-absent"),
        pytest.param("photo", transform(AVIF, 100), (100, 133), 1, id="avif-fit"),
        pytest.param("alpha", transform(PNG), (40, 30), 1, id="png-no-resize"),
        pytest.param("alpha", transform(JPG), (40, 30), 1, id="jpg-from-alpha"),
        pytest.param("alpha", transform(GIF, 80), (80, 60), 1, id="gif-static-upscaled-fit"),
        pytest.param("tiny", transform(PNG, None, 64), (64, 64), 1, id="upscale-height-only"),
        pytest.param("tall", transform(WEBP, 1000), (82, 8192), 1, id="fit-capped-at-8192"),
        pytest.param("tall", transform(WEBP, 100_000), (82, 8192), 1, id="width-clamped"),
        pytest.param("wide", transform(WEBP, None, 100_000), (8192, 82), 1, id="height-clamped"),
        pytest.param("huge", transform(PNG), (8192, 8), 1, id="no-resize-shrinks-to-cap"),
        pytest.param("gif", transform(WEBP), (60, 40), 3, id="gif-to-webp-kept-animated"),
        pytest.param("gif", transform(WEBP, 30, 30), (30, 30), 3, id="animated-cover"),
        pytest.param("gif", transform(GIF, 90, 30), (90, 30), 3, id="animated-cover-upscaled"),
        pytest.param("webp", transform(GIF, 30), (30, 20), 3, id="webp-to-gif-fit-width"),
        pytest.param("webp", transform(WEBP, None, 80), (120, 80), 3, id="animated-fit-height"),
        pytest.param("webp-rotated", transform(WEBP), (40, 60), 3, id="animated-exif-rotated"),
        pytest.param("webp-rotated", transform(GIF, 20), (20, 30), 3, id="animated-rotated-fit"),
        pytest.param(
            "webp-rotated", transform(WEBP, 30, 30), (30, 30), 3, id="animated-rotated-cover"
        ),
    ],
)
async def test_output_format_and_geometry(
    processor: PyvipsImageProcessor,
    sources: dict[str, bytes],
    source: str,
    request_: ImageTransform,
    size: tuple[int, int],
    pages: int,
) -> None:
    rendition = await processor.transform(sources[source], request_)

    image = decoded(rendition.data)
    page_height = field(image, "page-height") or image.height
    assert detect_format(rendition.data) is request_.format
    assert rendition.format is request_.format
    assert (rendition.width, rendition.height) == size
    assert (image.width, page_height, image.get_n_pages()) == (*size, pages)


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "request_", "limits", "message"),
    [
        pytest.param("corrupt", transform(WEBP), {}, "unprocessable source image", id="corrupt"),
        pytest.param("empty", transform(WEBP), {}, "unprocessable source image", id="empty"),
        pytest.param("matrix", transform(PNG), {}, "unprocessable source image", id="matrix-text"),
        pytest.param("svg", transform(PNG), {}, "unsupported source image type", id="svg-blocked"),
        pytest.param("gif", transform(JPG), {}, ANIMATED_TO_STATIC, id="animated-gif-to-jpg"),
        pytest.param("gif", transform(PNG, 30), {}, ANIMATED_TO_STATIC, id="animated-gif-to-png"),
        pytest.param("webp", transform(AVIF), {}, ANIMATED_TO_STATIC, id="animated-webp-to-avif"),
        pytest.param(
            "gif",
            transform(WEBP),
            {"max_frames": 2},
            "animated image exceeds frame limit",
            id="frame-cap",
        ),
        pytest.param(
            "photo",
            transform(WEBP, 10),
            {"max_pixels": 300_000},
            "image exceeds the pixel limit",
            id="source-pixels",
        ),
        pytest.param(
            "tiny",
            transform(WEBP, 8192, 8192),
            {"budget": ResultBudget(max_result_pixels=1_000_000)},
            "result of 8192x8192 exceeds the result limit of 1000000 pixels",
            id="output-pixels",
        ),
        pytest.param(
            "tiny",
            transform(WEBP, 8192),
            {},
            "result of 8192x8192 exceeds the result limit of 40000000 pixels",
            id="fit-result-over-the-default-budget",
        ),
        pytest.param(
            "gif",
            transform(GIF, 60, 40),
            {"budget": ResultBudget(max_result_pixels=3 * 60 * 40 - 1)},
            "result of 60x40 x 3 frames exceeds the result limit of 7199 pixels",
            id="result-pixels-count-every-frame",
        ),
        pytest.param(
            "gif",
            transform(WEBP),
            {"max_pixels": 3 * 60 * 40 - 1},
            "image exceeds the pixel limit",
            id="source-pixels-count-every-frame",
        ),
        pytest.param(
            "tiny",
            transform(WEBP, 65),
            {},
            "enlarging 2x2 to 65x65 exceeds the maximum upscale factor of 32",
            id="upscale-factor",
        ),
        pytest.param(
            "wide",
            transform(WEBP, 100, 400),
            {},
            "enlarging 1000x10 to 100x400 exceeds the maximum upscale factor of 32",
            id="upscale-factor-of-a-cover-crop",
        ),
        pytest.param(
            "photo",
            transform(WEBP, 1000),
            {"budget": ResultBudget(max_upscale=2)},
            "enlarging 480x640 to 1000x1333 exceeds the maximum upscale factor of 2",
            id="upscale-factor-configured",
        ),
    ],
)
async def test_refused_as_unprocessable(
    sources: dict[str, bytes],
    source: str,
    request_: ImageTransform,
    limits: dict[str, Any],
    message: str,
) -> None:
    processor = PyvipsImageProcessor(threads=1, **limits)
    try:
        with pytest.raises(UnprocessableImage) as caught:
            await processor.transform(sources[source], request_)
    finally:
        await processor.aclose()

    assert caught.value.message == message


async def test_decompression_bomb_refused_from_the_header(
    processor: PyvipsImageProcessor, sources: dict[str, bytes]
) -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(UnprocessableImage, match=r"^image exceeds the pixel limit$"):
        await processor.transform(sources["bomb"], transform(WEBP, 100))

    # Memory, not wall time, shows nothing was decoded: even one full scanline pass would
    # need 7.5 GB; the header needs nothing.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 64 * 1024


async def test_svg_renders_when_untrusted_loaders_are_allowed(sources: dict[str, bytes]) -> None:
    processor = PyvipsImageProcessor(allow_untrusted_loaders=True, threads=1)
    try:
        rendition = await processor.transform(sources["svg"], transform(PNG))
    finally:
        await processor.aclose()

    assert detect_format(rendition.data) is PNG
    assert (rendition.width, rendition.height) == (100, 50)


def test_encoder_failure_is_processing_failed() -> None:
    too_wide_for_webp = pyvips.Image.black(20_000, 1)  # WebP's limit is 16 383

    with (
        pytest.raises(ProcessingFailed) as caught,
        vips_errors(ProcessingFailed, "image processing failed"),
    ):
        encode(too_wide_for_webp, WEBP, 80)

    assert type(caught.value) is ProcessingFailed
    assert caught.value.message == "image processing failed"
    assert isinstance(caught.value.__cause__, pyvips.Error)


# --- pixels and metadata -------------------------------------------------------------


async def test_exif_rotation_moves_pixels_and_leaves_no_orientation(
    processor: PyvipsImageProcessor, sources: dict[str, bytes]
) -> None:
    png = await processor.transform(sources["photo"], transform(PNG))
    webp = await processor.transform(sources["photo"], transform(WEBP, 240))

    image = decoded(png.data)
    # Orientation 6 turns the stored top-left corner into the displayed top-right.
    assert is_red(image(470, 10))
    assert not is_red(image(10, 10))
    assert field(decoded(webp.data), "orientation") in (None, 1)


async def test_jpeg_output_strips_metadata_and_flattens_onto_white(
    processor: PyvipsImageProcessor, sources: dict[str, bytes]
) -> None:
    photo = decoded((await processor.transform(sources["photo"], transform(JPG))).data)
    flat = decoded((await processor.transform(sources["alpha"], transform(JPG))).data)

    assert [name for name in ("exif-data", "xmp-data", "icc-profile-data", "orientation")
            if photo.get_typeof(name)] == []  # fmt: skip
    assert (photo.width, photo.height) == (480, 640)
    assert flat.bands == 3
    assert min(flat(5, 15)) >= 250  # transparent half → white, not black
    assert flat(35, 15)[2] >= 240  # opaque half stays blue


async def test_animation_keeps_frame_timing(
    processor: PyvipsImageProcessor, sources: dict[str, bytes]
) -> None:
    for source, fmt in (("gif", WEBP), ("webp", GIF)):
        image = decoded((await processor.transform(sources[source], transform(fmt, 30, 30))).data)
        assert image.get("delay") == [100, 200, 300]
        assert image.get("loop") == 0


@pytest.mark.parametrize("source", ["gif", "webp-rotated"])
async def test_frames_keep_their_order(
    processor: PyvipsImageProcessor, sources: dict[str, bytes], source: str
) -> None:
    rendition = await processor.transform(sources[source], transform(WEBP, 30, 30))

    image = decoded(rendition.data)
    reds = [image(15, page * 30 + 15)[0] for page in range(3)]
    assert [round(red, -2) for red in reds] == [0, 100, 200]


@pytest.mark.parametrize("fmt", [WEBP, JPG, AVIF], ids=str)
async def test_quality_changes_size(
    processor: PyvipsImageProcessor, sources: dict[str, bytes], fmt: ImageFormat
) -> None:
    low = await processor.transform(sources["photo"], transform(fmt, 200, q=10))
    high = await processor.transform(sources["photo"], transform(fmt, 200, q=90))

    assert len(low.data) < len(high.data)


# --- threading -------------------------------------------------------------------------


def test_transform_sync_is_the_same_code_path(sources: dict[str, bytes]) -> None:
    rendition = transform_sync(sources["tiny"], transform(WEBP, 64), VipsLimits())

    assert isinstance(rendition, ImageRendition)
    assert (rendition.width, rendition.height) == (64, 64)


async def test_concurrent_transforms_all_succeed(
    processor: PyvipsImageProcessor, sources: dict[str, bytes]
) -> None:
    requests = [(sources["photo"], transform(WEBP, 100 + i)) for i in range(10)] + [
        (sources["gif"], transform(GIF, 20 + i, 20)) for i in range(10)
    ]

    renditions = await asyncio.gather(*(processor.transform(src, t) for src, t in requests))

    assert [r.width for r in renditions] == [t.width for _, t in requests]
    assert all(
        detect_format(r.data) is t.format for r, (_, t) in zip(renditions, requests, strict=True)
    )


async def test_event_loop_keeps_ticking_during_a_large_transform(
    processor: PyvipsImageProcessor,
) -> None:
    noise = pyvips.Image.gaussnoise(2000, 1500, mean=128, sigma=60).cast("uchar")
    large = bytes(noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave_buffer())
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        rendition = await processor.transform(large, transform(PNG))
        finished = time.perf_counter()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    # A transform that blocked the loop would let no tick in until it returned; however
    # slow the machine, the ticker runs while the transform does.
    assert (rendition.width, rendition.height) == (2000, 1500)
    assert sum(1 for tick in ticks if started < tick < finished) >= 3


async def test_closed_processor_refuses_work(sources: dict[str, bytes]) -> None:
    processor = PyvipsImageProcessor(threads=1)
    await processor.aclose()

    with pytest.raises(RuntimeError):
        await processor.transform(sources["tiny"], transform(PNG))


@pytest.mark.parametrize(
    "kwargs",
    [{"threads": 0}, {"max_pixels": 0}, {"max_frames": 0}],
    ids=["threads", "max_pixels", "max_frames"],
)
def test_constructor_rejects_non_positive_limits(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs and the constructor word it differently
        PyvipsImageProcessor(**kwargs)


# --- metadata and colour (issue #15 item 2) ------------------------------------------------

# A colour inside sRGB's gamut, written as Display P3 values: correct conversion gives
# about sRGB red (255, 0, 0); reading the P3 numbers as sRGB (no colour management)
# would give (234, 51, 34), a visibly duller red.
P3_PIXEL = [234, 51, 34]
SRGB_OF_P3_PIXEL = [255, 0, 0]
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.4N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
# An IPTC-IIM record (1:90 coded character set, 2:120 caption) as libvips stores it.
IPTC = b"\x1c\x02\x78\x00\x0bSecret spot"
GPS_FIELDS = {
    "exif-ifd3-GPSLatitudeRef": "N",
    "exif-ifd3-GPSLatitude": "48/1 51/1 2400/100",
    "exif-ifd3-GPSLongitudeRef": "E",
    "exif-ifd3-GPSLongitude": "2/1 21/1 0/1",
    "exif-ifd0-Make": "SpyCam",
}
LEAKY = ("exif", "xmp", "iptc", "icc", "gps", "orientation")


def _p3_profile() -> bytes:
    return bytes(pyvips.Image.black(1, 1, bands=3).cast("uchar").icc_transform("p3").get(
        "icc-profile-data"
    ))  # fmt: skip


def tagged(save: str, pixel: list[int], profile: bytes | None = None) -> bytes:
    """96×64 of one colour with EXIF (GPS included), XMP, IPTC and optionally an ICC profile."""
    image = (pyvips.Image.black(96, 64, bands=3) + pixel).cast("uchar").copy(interpretation="srgb")
    image = image.copy()
    for name, value in GPS_FIELDS.items():
        image.set_type(pyvips.GValue.gstr_type, name, value)
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    image.set_type(pyvips.GValue.blob_type, "iptc-data", IPTC)
    if profile is not None:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    return bytes(getattr(image, save)())


def leaky_fields(data: bytes) -> list[str]:
    image = decoded(data)
    return [
        name
        for name in image.get_fields()
        if any(k in name.lower() for k in LEAKY)
        # TIFF always has an orientation; 1 (upright) is no instruction to rotate.
        and not (name == "orientation" and image.get(name) == 1)
    ]


@pytest.fixture(scope="module")
def tagged_sources() -> dict[str, bytes]:
    p3 = _p3_profile()
    return {
        "jpeg": tagged("jpegsave_buffer", P3_PIXEL),
        "png": tagged("pngsave_buffer", P3_PIXEL),
        "p3-jpeg": tagged("jpegsave_buffer", P3_PIXEL, p3),
        "p3-png": tagged("pngsave_buffer", P3_PIXEL, p3),
    }


def test_generated_sources_really_carry_gps_xmp_and_profile(
    tagged_sources: dict[str, bytes],
) -> None:
    fields = decoded(tagged_sources["p3-jpeg"]).get_fields()
    assert {"exif-ifd3-GPSLatitudeRef", "xmp-data", "icc-profile-data"} <= set(fields)
    assert "exif-ifd3-GPSLatitudeRef" in decoded(tagged_sources["png"]).get_fields()


@pytest.mark.parametrize("fmt", list(ImageFormat), ids=str)
@pytest.mark.parametrize("source", ["jpeg", "png", "p3-jpeg", "p3-png"])
async def test_no_exif_xmp_iptc_or_profile_survives(
    processor: PyvipsImageProcessor,
    tagged_sources: dict[str, bytes],
    source: str,
    fmt: ImageFormat,
) -> None:
    for request_ in (transform(fmt, 48), transform(fmt)):
        rendition = await processor.transform(tagged_sources[source], request_)
        assert leaky_fields(rendition.data) == []


def _close(pixel: list[float], want: list[int], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], want, strict=True))


@pytest.mark.parametrize("fmt", list(ImageFormat), ids=str)
@pytest.mark.parametrize("source", ["p3-jpeg", "p3-png"])
async def test_display_p3_colours_come_out_as_srgb(
    processor: PyvipsImageProcessor,
    tagged_sources: dict[str, bytes],
    source: str,
    fmt: ImageFormat,
) -> None:
    rendition = await processor.transform(tagged_sources[source], transform(fmt, 48, q=95))

    pixel = decoded(rendition.data)(24, 16)
    assert _close(pixel, SRGB_OF_P3_PIXEL, 14), pixel
    assert not _close(pixel, P3_PIXEL, 14)  # the unmanaged reading would land here


@pytest.mark.parametrize("fmt", [WEBP, PNG], ids=str)
async def test_untagged_sources_are_not_colour_managed(
    processor: PyvipsImageProcessor, tagged_sources: dict[str, bytes], fmt: ImageFormat
) -> None:
    rendition = await processor.transform(tagged_sources["png"], transform(fmt, 48, q=100))

    assert _close(decoded(rendition.data)(24, 16), P3_PIXEL, 3)


async def test_cmyk_sources_come_out_as_srgb_without_a_profile(
    processor: PyvipsImageProcessor,
) -> None:
    rgb = pyvips.Image.black(32, 32).new_from_image([30, 120, 200]).cast("uchar")
    cmyk = bytes(rgb.copy(interpretation="srgb").icc_transform("cmyk").jpegsave_buffer(Q=95))

    rendition = await processor.transform(cmyk, transform(WEBP, 16, q=100))

    image = decoded(rendition.data)
    assert image.bands == 3
    assert leaky_fields(rendition.data) == []
    assert _close(image(8, 8), [30, 120, 200], 20)


async def test_thumbnail_workflow_outputs_carry_no_metadata(
    tagged_sources: dict[str, bytes],
) -> None:
    from vylux_adapters.memory import ManualClock, MemoryJobStore, MemoryObjectStore
    from vylux_core.jobs.job import JobType, NewJob
    from vylux_core.worker import ProgressReporter
    from vylux_core.workflows.thumbnail import ThumbnailWorkflow

    clock = ManualClock()
    source, media, jobs = MemoryObjectStore(), MemoryObjectStore(), MemoryJobStore(clock=clock)
    await source.put_bytes("in.jpg", tagged_sources["p3-jpeg"], content_type="image/jpeg")
    processor = PyvipsImageProcessor(threads=1)
    workflow = ThumbnailWorkflow(
        source=source, media=media, images=processor, max_source_bytes=1 << 20
    )
    formats = sorted(REFERENCE_FORMATS)
    outputs = [{"variant": fmt.value, "width": 48, "format": fmt.value} for fmt in formats]
    created = await jobs.create(
        NewJob(id="job", type=JobType.THUMBNAIL, hash="abcdef1234567890", source="in.jpg",
               options={"outputs": outputs}, request_fingerprint="fp")
    )  # fmt: skip
    job = await jobs.mark_processing(created.job.id)
    try:
        results = await workflow(job, ProgressReporter(jobs=jobs, job_id=job.id, clock=clock))
    finally:
        await processor.aclose()

    assert len(results) == len(formats)
    for result in results:
        data = await media.read_bytes(result.key, max_bytes=1 << 20)
        assert data is not None
        assert leaky_fields(data) == [], result.format
        assert _close(decoded(data)(24, 16), SRGB_OF_P3_PIXEL, 14), result.format


@pytest.mark.parametrize("fmt", [WEBP, GIF], ids=str)
async def test_animated_display_p3_frames_come_out_as_srgb(
    processor: PyvipsImageProcessor, fmt: ImageFormat
) -> None:
    # Frames must differ, or libwebp merges them into one.
    frames = [pyvips.Image.black(20, 10).new_from_image([234, 51, 34 + 40 * i]) for i in range(3)]
    strip = pyvips.Image.arrayjoin(frames, across=1).cast("uchar").copy(interpretation="srgb")
    strip = _with_int(_with_int(strip, "page-height", 10), "loop", 0)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100, 200, 300])
    strip.set_type(pyvips.GValue.blob_type, "icc-profile-data", _p3_profile())
    strip.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitudeRef", "N")
    source = bytes(strip.webpsave_buffer())

    rendition = await processor.transform(source, transform(fmt, 10, 10, q=95))

    image = decoded(rendition.data)
    assert (image.get_n_pages(), image.get("delay")) == (3, [100, 200, 300])
    assert leaky_fields(rendition.data) == []
    assert _close(image(5, 5), SRGB_OF_P3_PIXEL, 14)  # the first frame


@pytest.mark.parametrize("profile", [b"x" * 200, b"acsp" * 40], ids=["garbage", "no-tags"])
async def test_a_broken_profile_is_not_a_failure(
    processor: PyvipsImageProcessor, profile: bytes
) -> None:
    image = pyvips.Image.black(32, 32).new_from_image(P3_PIXEL).cast("uchar")
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)

    rendition = await processor.transform(bytes(image.pngsave_buffer()), transform(WEBP, 16))

    # libvips ignores a profile it cannot use: the pixels are read as sRGB.
    assert _close(decoded(rendition.data)(8, 8), P3_PIXEL, 4)


def _profile(name: str) -> bytes:
    image = pyvips.Image.black(1, 1, bands=3).cast("uchar").copy(interpretation="srgb")
    return bytes(image.icc_transform(name).get("icc-profile-data"))


def _with_linear_curves(profile: bytes) -> bytes:
    """``profile`` with every TRC tag pointing at an identity ``curv`` (linear light)."""
    identity = b"curv" + b"\0" * 8  # no entries: the identity curve
    data = bytearray(profile) + identity
    (count,) = struct.unpack_from(">I", data, 128)
    for index in range(count):
        entry = 132 + 12 * index
        if bytes(data[entry : entry + 4]) in (b"rTRC", b"gTRC", b"bTRC"):
            struct.pack_into(">II", data, entry + 4, len(profile), len(identity))
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "srgb"),
    [("srgb", True), ("p3", False), ("cmyk", False), ("linear-srgb", False)],
)
def test_only_srgb_profiles_take_the_unmanaged_path(name: str, srgb: bool) -> None:
    from vylux_adapters.vips.colour import is_srgb_profile

    profile = _with_linear_curves(_profile("srgb")) if name == "linear-srgb" else _profile(name)

    assert is_srgb_profile(profile) is srgb
