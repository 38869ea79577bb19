"""ImageProcessor contract: the ``/img`` and ``image:thumbnail`` transforms.

Each adapter is given sources in a format it decodes (a PNG for libvips, the toy format
for the fake) and is read back by its own ``inspect``: what is checked is the geometry,
the format and the typed refusals the core relies on, not the encoders' bytes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import pyvips  # type: ignore[import-untyped]
from attrs import field, frozen

from vylux_adapters.memory import FakeImageProcessor, fake_image
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_core.errors import UnprocessableImage
from vylux_core.images.options import ImageFormat, format_of_bytes
from vylux_core.images.result_budget import ResultBudget
from vylux_core.ports.image_processor import ImageProcessor, ImageRendition, ImageTransform


@frozen(kw_only=True)
class Limits:
    max_pixels: int | None = None
    budget: ResultBudget = field(factory=ResultBudget)


@frozen(kw_only=True)
class Inspected:
    width: int
    height: int
    format: ImageFormat | None


@frozen(kw_only=True)
class ImageWorld:
    processor: ImageProcessor
    image: Callable[[int, int], bytes]
    """A source of that size in a format the processor decodes."""
    inspect: Callable[[bytes], Inspected]
    """The size and format of a rendition's bytes, read the adapter's own way."""


ImageWorldFactory = Callable[[Limits], AbstractAsyncContextManager[ImageWorld]]


def png(width: int, height: int) -> bytes:
    # A gradient, so no encoder can shrink it to a constant.
    image = pyvips.Image.xyz(width, height)[0].cast("uchar")
    image = image.bandjoin([image, 255 - image]).copy(interpretation="srgb")
    return bytes(image.write_to_buffer(".png"))


def vips_inspect(data: bytes) -> Inspected:
    image = pyvips.Image.new_from_buffer(data, "")
    return Inspected(width=image.width, height=image.height, format=format_of_bytes(data))


_FAKE_RENDITION = re.compile(rb"FAKEIMG (\d+)x(\d+)\n(\w+) q\d+\Z")


def fake_inspect(data: bytes) -> Inspected:
    match = _FAKE_RENDITION.match(data)
    assert match is not None, data
    return Inspected(
        width=int(match.group(1)),
        height=int(match.group(2)),
        format=ImageFormat(match.group(3).decode()),
    )


@asynccontextmanager
async def vips_world(limits: Limits) -> AsyncIterator[ImageWorld]:
    if limits.max_pixels is None:
        processor = PyvipsImageProcessor(budget=limits.budget, threads=1)
    else:
        processor = PyvipsImageProcessor(
            max_pixels=limits.max_pixels, budget=limits.budget, threads=1
        )
    try:
        yield ImageWorld(processor=processor, image=png, inspect=vips_inspect)
    finally:
        await processor.aclose()


@asynccontextmanager
async def fake_world(limits: Limits) -> AsyncIterator[ImageWorld]:
    processor = FakeImageProcessor(max_pixels=limits.max_pixels, budget=limits.budget)
    yield ImageWorld(processor=processor, image=fake_image, inspect=fake_inspect)


IMAGE_PROCESSOR_FACTORIES = [
    pytest.param(vips_world, id="vips"),
    pytest.param(fake_world, id="fake"),
]


@pytest.fixture(params=IMAGE_PROCESSOR_FACTORIES)
def factory(request: pytest.FixtureRequest) -> ImageWorldFactory:
    chosen: ImageWorldFactory = request.param
    return chosen


@pytest.fixture
async def world(factory: ImageWorldFactory) -> AsyncIterator[ImageWorld]:
    async with factory(Limits()) as adapter:
        yield adapter


def transform(
    fmt: ImageFormat = ImageFormat.PNG,
    *,
    width: int | None = None,
    height: int | None = None,
    quality: int | None = None,
) -> ImageTransform:
    return ImageTransform(
        format=fmt,
        quality=fmt.default_quality if quality is None else quality,
        width=width,
        height=height,
    )


async def render(world: ImageWorld, source: bytes, wanted: ImageTransform) -> ImageRendition:
    rendition = await world.processor.transform(source, wanted)
    assert isinstance(rendition, ImageRendition)
    assert isinstance(rendition.data, bytes)
    assert rendition.data
    # The rendition says what its bytes are.
    assert world.inspect(rendition.data) == Inspected(
        width=rendition.width, height=rendition.height, format=rendition.format
    )
    return rendition


@pytest.mark.parametrize(
    ("source", "width", "height", "size"),
    [
        pytest.param((60, 40), 20, 20, (20, 20), id="cover-crops-to-the-box"),
        pytest.param((60, 40), 90, 10, (90, 10), id="cover-wide-box"),
        pytest.param((60, 40), 30, None, (30, 20), id="width-fits"),
        pytest.param((60, 40), None, 10, (15, 10), id="height-fits"),
        pytest.param((16, 12), 64, None, (64, 48), id="width-enlarges"),
        pytest.param((60, 40), None, None, (60, 40), id="neither-keeps-the-size"),
        pytest.param((60, 40), 0, 10, (15, 10), id="zero-is-absent"),
        pytest.param((60, 40), -5, -1, (60, 40), id="negative-is-absent"),
        # The open side is capped at 8192: the fit box is 100x8192.
        pytest.param((10, 2000), 100, None, (41, 8192), id="fit-box-is-capped"),
    ],
)
async def test_geometry(
    world: ImageWorld,
    source: tuple[int, int],
    width: int | None,
    height: int | None,
    size: tuple[int, int],
) -> None:
    rendition = await render(world, world.image(*source), transform(width=width, height=height))

    assert (rendition.width, rendition.height) == size


@pytest.mark.parametrize(
    "fmt", [ImageFormat.JPG, ImageFormat.PNG, ImageFormat.WEBP, ImageFormat.AVIF, ImageFormat.GIF]
)
async def test_every_reference_format_is_encoded(world: ImageWorld, fmt: ImageFormat) -> None:
    rendition = await render(world, world.image(40, 30), transform(fmt, width=20))

    assert rendition.format is fmt
    assert (rendition.width, rendition.height) == (20, 15)


@pytest.mark.parametrize("fmt", [ImageFormat.JPG, ImageFormat.WEBP])
async def test_quality_changes_the_encoding(world: ImageWorld, fmt: ImageFormat) -> None:
    source = world.image(48, 48)

    low = await render(world, source, transform(fmt, quality=10))
    high = await render(world, source, transform(fmt, quality=95))

    assert low.data != high.data


async def test_a_source_is_not_modified(world: ImageWorld) -> None:
    source = bytearray(world.image(32, 32))
    before = bytes(source)

    await render(world, bytes(source), transform(width=8))
    await world.processor.transform(source, transform(ImageFormat.WEBP, width=8))

    assert bytes(source) == before


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"this is not an image\n" * 4, id="text"),
        pytest.param(bytes(range(256)), id="binary-noise"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
    ],
)
async def test_undecodable_input_is_unprocessable(world: ImageWorld, source: bytes) -> None:
    with pytest.raises(UnprocessableImage):
        await world.processor.transform(source, transform(width=10))


async def test_a_source_over_the_pixel_limit_is_unprocessable(
    factory: ImageWorldFactory,
) -> None:
    async with factory(Limits(max_pixels=32 * 32)) as world:
        within = await render(world, world.image(32, 32), transform(width=8))
        with pytest.raises(UnprocessableImage):
            await world.processor.transform(world.image(33, 32), transform(width=8))

    assert (within.width, within.height) == (8, 8)


@pytest.mark.parametrize(
    ("budget", "source", "width", "height"),
    [
        pytest.param(ResultBudget(max_upscale=2), (8, 8), 17, None, id="upscale-factor"),
        pytest.param(ResultBudget(max_upscale=2), (8, 8), 16, 17, id="upscale-factor-cover"),
        pytest.param(ResultBudget(max_result_pixels=100), (16, 16), None, None, id="pixels"),
    ],
)
async def test_a_rendition_over_the_budget_is_unprocessable(
    factory: ImageWorldFactory,
    budget: ResultBudget,
    source: tuple[int, int],
    width: int | None,
    height: int | None,
) -> None:
    async with factory(Limits(budget=budget)) as world:
        # A refusal of the input (422), not an encoder failure (500).
        with pytest.raises(UnprocessableImage):
            await world.processor.transform(
                world.image(*source), transform(width=width, height=height)
            )
