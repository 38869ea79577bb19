"""The processor trims the heap once no large render is left, cancelled ones included."""

from __future__ import annotations

import asyncio

import pyvips  # type: ignore[import-untyped]

from tests.support.deadlines import scaled
from vylux_adapters.vips import PyvipsImageProcessor
from vylux_adapters.vips.heap import TRIM_AFTER_SOURCE_BYTES, IdleTrim
from vylux_core.images.options import ImageFormat
from vylux_core.ports.image_processor import ImageTransform


def _large_jpeg() -> bytes:
    noise = pyvips.Image.gaussnoise(2400, 1800, sigma=60, mean=128)
    data = bytes(noise.bandjoin([noise, noise]).cast("uchar").jpegsave_buffer(Q=98))
    assert len(data) >= TRIM_AFTER_SOURCE_BYTES
    return data


async def test_a_render_cancelled_while_queued_does_not_stop_the_trimming() -> None:
    processor = PyvipsImageProcessor(threads=1)
    trims: list[int] = []
    processor._idle_trim = IdleTrim(trim=lambda: trims.append(1))
    source = _large_jpeg()
    transform = ImageTransform(format=ImageFormat.WEBP, quality=80, width=200)
    try:
        running = asyncio.create_task(processor.transform(source, transform))
        queued = asyncio.create_task(processor.transform(source, transform))
        await asyncio.sleep(0)  # both submitted; the one thread runs the first
        queued.cancel()
        await running
        async with asyncio.timeout(scaled(10)):
            while not trims:
                await asyncio.sleep(0.01)
    finally:
        await processor.aclose()
    assert trims == [1]
