"""PyvipsImageProcessor: the ImageProcessor port on libvips, off the event loop.

Semantics (they decide output bytes, and so ETags; D105–D107):

* ``w`` and ``h``: cover the w×h box and centre-crop to exactly w×h. Animated
  output: a per-frame cover crop, frames kept.
* ``w`` only / ``h`` only: **fit**, keeping the aspect ratio, inside a w×8192 /
  8192×h box (D105). Upscaling is allowed (libvips' ``size=both``), but never past
  MAX_DIMENSION on either axis, so a very tall source asked for ``w1000`` may come
  out narrower than 1000.
* neither: re-encode at the source size, shrinking only what exceeds 8192 on a side.
* EXIF orientation is applied on every path, "no resize" included: outputs carry no
  EXIF, so a skipped rotation would show the picture sideways (D106). Animated frames
  are rotated one by one: libvips' own rotation would turn the whole frame strip.
* Values ≤ 0 mean "absent" and values above MAX_DIMENSION are clamped (job options
  reach this adapter unvalidated).
* Before any pixel is decoded (D107): the loader must be one of JPEG, PNG, WebP, GIF,
  HEIF/AVIF or TIFF unless ``allow_untrusted_loaders`` (SVG and anything else →
  "unsupported source image type"); page count and then frame count are checked
  (animated → jpg/png/avif is refused with the spec's message; more than
  ``max_frames`` pages → "animated image exceeds frame limit"); source pixels
  (width × height × decoded frames) must stay within ``max_pixels`` ("image
  exceeds the pixel limit"), and the rendition within the core's
  :class:`ResultBudget` (output pixels × frames, which also bounds memory for
  upscaled animations, and the upscale factor).
* Metadata: no output carries EXIF, XMP, IPTC or comments. Sources with an
  embedded non-sRGB profile (Display P3, Adobe RGB, CMYK) are converted to sRGB
  after the resize and the profile dropped; untagged and sRGB-tagged sources are
  not colour-managed at all (see ``colour``).
* Only GIF and WebP sources with several frames stay animated, and only for webp or
  gif output; a multi-page TIFF/HEIF renders its first page.
* Errors: everything up to building the pipeline → ``UnprocessableImage``
  ("unprocessable source image" for undecodable input, HTTP 422); failures while
  encoding → ``ProcessingFailed`` ("image processing failed", HTTP 500). libvips
  evaluates lazily, so a pixel-decode error the loader does not tolerate also lands
  in the second group. ``pyvips.Error`` never escapes.

Process-wide libvips state: the constructor turns libvips' operation cache off. It
is keyed on operation arguments, which here include the whole source buffer, so it
never hits for distinct requests and would only pin up to 100 sources and their
pipelines. It also sets libvips' concurrency to one thread per operation, and the
processor runs two renders per CPU at once (imgproxy's defaults): many operations side
by side keep the CPUs busy, where two threads per operation wait on each other's tiles
(CPU use 1.6 → 1.9 of 2 CPUs under 8 concurrent cold renders, ``docs/performance.md``).
It applies to every libvips call of the process, the worker's image steps included;
those run in parallel too. ``pyvips.block_untrusted_set`` is deliberately *not* used: it is
process-global (one processor could not allow SVG while another refuses it) and
covers only operations libvips flags untrusted; the loader allow-list above is
checked per call, before the loader runs.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.colour import to_srgb
from vylux_adapters.vips.describe import describe_sync
from vylux_adapters.vips.errors import PROCESSING_FAILED, UNPROCESSABLE, vips_errors
from vylux_adapters.vips.export import encode
from vylux_adapters.vips.heap import TRIM_AFTER_SOURCE_BYTES, IdleTrim
from vylux_adapters.vips.imgproxy_pipeline import transform_processing
from vylux_adapters.vips.limits import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, VipsLimits
from vylux_adapters.vips.probe import read_header, sniff_loader
from vylux_adapters.vips.resize import resize_animated, resize_static
from vylux_core.errors import ProcessingFailed, UnprocessableImage
from vylux_core.images.geometry import output_size, plan_resize
from vylux_core.images.result_budget import ResultBudget
from vylux_core.ports.image_inspector import ImageDescription
from vylux_core.ports.image_processor import ImageRendition, ImageTransform


def transform_sync(
    source: bytes | bytearray, transform: ImageTransform, limits: VipsLimits
) -> ImageRendition:
    """Blocking implementation of ``ImageProcessor.transform`` (the adapter runs it in
    its executor; benchmarks may call it directly to measure the same code path)."""
    if transform.processing is not None:
        return transform_processing(source, transform, limits)
    loader = sniff_loader(source)
    if loader is None:
        raise UnprocessableImage(UNPROCESSABLE)
    limits.check_loader(loader)
    info = read_header(source, loader)
    fmt = transform.format
    limits.check_pages(info.pages, animatable_output=fmt.animatable)
    animated = fmt.animatable and info.animated
    frames = info.pages if animated else 1
    plan = plan_resize(transform.width, transform.height)
    expected = output_size(info.display_size, plan)
    limits.check_source_pixels(info.stored_size.pixels * frames)
    source_size = info.display_size
    limits.budget.check_result(
        source=(source_size.width, source_size.height),
        result=(expected.width, expected.height),
        frames=frames,
    )

    with vips_errors(UnprocessableImage, UNPROCESSABLE):
        image = resize_animated(source, info, plan) if animated else resize_static(source, plan)
        image, keep_profile = to_srgb(image)
        width = int(image.width)
        height = int(image.get("page-height")) if animated else int(image.height)
    with vips_errors(ProcessingFailed, PROCESSING_FAILED):
        data = encode(image, fmt, transform.quality, keep_profile=keep_profile)
    return ImageRendition(data=data, format=fmt, width=width, height=height)


class PyvipsImageProcessor:
    """ImageProcessor on libvips; all libvips work runs in a thread pool it owns.

    A cancelled ``transform`` stops waiting at once, but a libvips call that already
    started runs to completion in its thread (libvips cannot be interrupted).
    ``close``/``aclose`` drop queued work, wait for running work and free the threads.
    """

    def __init__(
        self,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_frames: int = DEFAULT_MAX_FRAMES,
        budget: ResultBudget | None = None,
        allow_untrusted_loaders: bool = False,
        threads: int | None = None,
    ) -> None:
        workers = threads if threads is not None else 2 * (os.cpu_count() or 1)
        if workers < 1:
            raise ValueError("threads must be at least 1")
        self._limits = VipsLimits(
            max_pixels=max_pixels,
            max_frames=max_frames,
            allow_untrusted_loaders=allow_untrusted_loaders,
            budget=budget if budget is not None else ResultBudget(),
        )
        # Threads start on first use; creating the pool does no work.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vips")
        # Process-wide and idempotent; why: see the module docstring.
        pyvips.cache_set_max(0)
        pyvips.concurrency_set(1)
        self._idle_trim = IdleTrim()

    @property
    def limits(self) -> VipsLimits:
        return self._limits

    async def transform(
        self, source: bytes | bytearray, transform: ImageTransform
    ) -> ImageRendition:
        loop = asyncio.get_running_loop()
        if len(source) < TRIM_AFTER_SOURCE_BYTES:
            return await loop.run_in_executor(
                self._executor, transform_sync, source, transform, self._limits
            )
        # Counted from submission, queued renders included, until the executor's job
        # is done, run or cancelled before it ran: the heap is trimmed only when none is
        # left (see ``heap``).
        job = self._executor.submit(transform_sync, source, transform, self._limits)
        self._idle_trim.started()
        job.add_done_callback(lambda _: self._idle_trim.finished())
        return await asyncio.wrap_future(job)

    async def describe(self, source: bytes | bytearray) -> ImageDescription:
        """ImageInspector: the source's facts and placeholders (see ``describe``)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, describe_sync, source, self._limits)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        # Waiting for running libvips calls blocks, so do it off the event loop.
        await asyncio.to_thread(self.close)
