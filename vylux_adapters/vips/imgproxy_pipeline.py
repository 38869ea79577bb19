"""imgproxy's processing options on libvips (``ImageTransform.processing``).

The sizes come from the core (:mod:`vylux_core.imgproxy.geometry`), so the result
budget is checked before any pixel is decoded. Order as in imgproxy's pipeline:
scale (with shrink-on-load and EXIF rotation, through ``thumbnail``), rotate and
flip, the ``crop`` option, crop to the result box by gravity (``sm``: libvips'
attention-based smart crop), blur/sharpen/pixelate, extend, padding, background,
watermark. Animated GIF/WebP sources keep every frame in GIF/WebP output (each frame
goes through the same steps); metadata is always stripped.
"""

from __future__ import annotations

from typing import Any

import attrs
import pyvips  # type: ignore[import-untyped]

from vylux_adapters.vips.colour import to_srgb
from vylux_adapters.vips.errors import PROCESSING_FAILED, UNPROCESSABLE, vips_errors
from vylux_adapters.vips.export import encode
from vylux_adapters.vips.limits import VipsLimits
from vylux_adapters.vips.probe import read_header, sniff_loader
from vylux_adapters.vips.resize import thumbnail, with_page_height
from vylux_core.errors import ProcessingFailed, UnprocessableImage
from vylux_core.images.geometry import Size
from vylux_core.images.options import MAX_DIMENSION, ImageFormat
from vylux_core.imgproxy.geometry import Geometry, plan_geometry, position
from vylux_core.imgproxy.options import Gravity, GravityType, ProcessingOptions
from vylux_core.ports.image_processor import ImageRendition, ImageTransform

VipsImage = Any  # pyvips images are untyped

# The source's format: ``skip_processing`` matches it, and it is the output when
# negotiation leaves the format to the source (TIFF excepted, see ``_finish``).
_SOURCE_FORMATS = {
    "jpegload_buffer": ImageFormat.JPG,
    "uhdrload_buffer": ImageFormat.JPG,
    "pngload_buffer": ImageFormat.PNG,
    "webpload_buffer": ImageFormat.WEBP,
    "gifload_buffer": ImageFormat.GIF,
    "heifload_buffer": ImageFormat.AVIF,
    "tiffload_buffer": ImageFormat.TIFF,
}
_ALPHA_FORMATS = frozenset(
    {ImageFormat.PNG, ImageFormat.WEBP, ImageFormat.AVIF, ImageFormat.GIF, ImageFormat.TIFF}
)
_WHITE = (255, 255, 255)


def transform_processing(
    source: bytes | bytearray, transform: ImageTransform, limits: VipsLimits
) -> ImageRendition:
    po = transform.processing
    if po is None:
        raise ValueError("transform_processing needs ImageTransform.processing")
    loader = sniff_loader(source)
    if loader is None:
        raise UnprocessableImage(UNPROCESSABLE)
    limits.check_loader(loader)
    source_format = _SOURCE_FORMATS.get(loader)
    if source_format is not None and source_format in po.skip_processing:
        return _skipped(source, source_format, loader, po, limits)
    info = read_header(source, loader)
    fmt = transform.format
    if transform.format_from_source:
        fmt = _SOURCE_FORMATS.get(loader, ImageFormat.JPG)
    # Animated GIF/WebP stay animated in GIF/WebP (not with trim or format:best);
    # otherwise the first frame is rendered.
    animated = info.animated and fmt.animatable and po.trim is None and not po.best_format
    frames = info.pages if animated else 1
    if animated:
        limits.check_pages(info.pages, animatable_output=True)
    limits.check_source_pixels(info.stored_size.pixels * frames)
    display = info.display_size if po.auto_rotate else info.stored_size
    trimmed = None
    if po.trim is not None:
        # Trimming needs the pixels before the geometry can be planned: the source is
        # decoded whole, trimmed, then resized in memory, so it must fit the result
        # budget as a rendition of its own size would.
        limits.budget.check_result(
            source=(display.width, display.height), result=(display.width, display.height)
        )
        with vips_errors(UnprocessableImage, UNPROCESSABLE):
            trimmed = _trimmed(source, display, po)
        display = Size(int(trimmed.width), int(trimmed.height))
    quarter = po.rotate in (90, 270)
    rotated = display.transposed() if quarter else display
    geometry = plan_geometry(rotated, po)
    # The scaled image is held whole for a smart crop: it must fit the budget too.
    for size in (geometry.scaled, geometry.final):
        limits.budget.check_result(
            source=(rotated.width, rotated.height),
            result=(size.width, size.height),
            frames=frames,
        )

    with vips_errors(UnprocessableImage, UNPROCESSABLE):
        scaled = geometry.scaled
        width, height = (scaled.height, scaled.width) if quarter else (scaled.width, scaled.height)
        if animated:
            # Every frame at once as one tall strip, scaled in stored orientation;
            # rotation and everything after are applied frame by frame.
            turn = po.auto_rotate and info.transposed
            stored_w, stored_h = (height, width) if turn else (width, height)
            strip = thumbnail(
                source, stored_w, height=stored_h, size="force", no_rotate=True,
                option_string="n=-1",
            )  # fmt: skip
            strip, keep_profile = to_srgb(strip)
            if strip.bands < 3:
                strip = strip.colourspace("srgb")
            count = int(strip.height) // stored_h
            # Smart crop per frame would make the crop jump between frames: centre.
            if po.gravity.type is GravityType.SMART:
                po = attrs.evolve(po, gravity=Gravity())
            finished = []
            for index in range(count):
                frame = strip.crop(0, index * stored_h, stored_w, stored_h)
                if po.auto_rotate:
                    frame = frame.autorot()
                frame, fmt = _finish(frame, geometry, po, fmt, transform, loader, limits)
                finished.append(frame)
            image = with_page_height(
                pyvips.Image.arrayjoin(finished, across=1), int(finished[0].height)
            )
            out_width, out_height = int(finished[0].width), int(finished[0].height)
        else:
            if trimmed is not None:
                image = trimmed.thumbnail_image(width, height=height, size="force")
            else:
                image = thumbnail(
                    source, width, height=height, size="force", no_rotate=not po.auto_rotate
                )
            image, keep_profile = to_srgb(image)
            if image.bands < 3:
                image = image.colourspace("srgb")
            image, fmt = _finish(image, geometry, po, fmt, transform, loader, limits)
            out_width, out_height = int(image.width), int(image.height)
    with vips_errors(ProcessingFailed, PROCESSING_FAILED):
        if po.best_format:
            image = image.copy_memory()  # encoded several times
            candidates = [ImageFormat.PNG if image.hasalpha() else ImageFormat.JPG]
            candidates += [ImageFormat.WEBP, ImageFormat.AVIF]
            encoded = [(_encode_within(image, f, po, keep_profile), f) for f in candidates]
            data, fmt = min(encoded, key=lambda pair: len(pair[0]))
        else:
            data = _encode_within(image, fmt, po, keep_profile)
    return ImageRendition(data=data, format=fmt, width=out_width, height=out_height)


def _finish(
    image: VipsImage,
    geometry: Geometry,
    po: ProcessingOptions,
    fmt: ImageFormat,
    transform: ImageTransform,
    loader: str,
    limits: VipsLimits,
) -> tuple[VipsImage, ImageFormat]:
    """Everything after scaling, on one (scaled, sRGB) frame; returns the frame and the
    output format (a TIFF source's depends on its alpha)."""
    image = _rotate_and_flip(image, po)
    if geometry.crop is not None and po.crop is not None:
        image = _crop(image, geometry.crop, po.crop.gravity or po.gravity, po.dpr)
    image = _crop(image, geometry.result_crop, po.gravity, po.dpr)
    image = _filters(image, po)
    if transform.format_from_source and loader == "tiffload_buffer":
        fmt = ImageFormat.PNG if image.hasalpha() else ImageFormat.JPG
    background = _background(image, po, fmt)
    if geometry.extend is not None:
        gravity = po.extend_gravity if po.extend else po.extend_aspect_ratio_gravity
        image = _embed(image, geometry.extend, gravity, po.dpr, background)
    top, right, bottom, left = geometry.padding
    if top or right or bottom or left:
        image = _with_alpha(image, background)
        image = image.embed(
            left,
            top,
            image.width + left + right,
            image.height + top + bottom,
            extend="background",
            background=background,
        )
    if po.background is not None and image.hasalpha():
        image = image.flatten(background=list(po.background))
    if po.watermark is not None and transform.watermark is not None:
        image = _watermarked(image, transform.watermark, po, limits)
    return image, fmt


_LOSSY = frozenset({ImageFormat.JPG, ImageFormat.WEBP, ImageFormat.AVIF})
_MIN_QUALITY = 10


def _encode_within(
    image: VipsImage, fmt: ImageFormat, po: ProcessingOptions, keep_profile: bool
) -> bytes:
    """Encode; with ``max_bytes`` and a lossy format, lower the quality as imgproxy's
    ``saveImageToFitBytes`` does until the result fits or the quality reaches 10."""
    quality = po.quality_for(fmt)
    if not po.max_bytes or fmt not in _LOSSY:
        return encode(image, fmt, quality, keep_profile=keep_profile)
    image = image.copy_memory()  # may be encoded several times
    data = encode(image, fmt, quality, keep_profile=keep_profile)
    while len(data) > po.max_bytes and quality > _MIN_QUALITY:
        excess = len(data) / po.max_bytes
        factor = 0.25 if excess > 3 else 0.5 if excess > 1.5 else 0.75
        quality = max(_MIN_QUALITY, int(quality * factor))
        data = encode(image, fmt, quality, keep_profile=keep_profile)
    return data


def _skipped(
    source: bytes | bytearray,
    fmt: ImageFormat,
    loader: str,
    po: ProcessingOptions,
    limits: VipsLimits,
) -> ImageRendition:
    """skip_processing: no geometry and no effects, but still re-encoded in the source's
    format, so the metadata rules hold (imgproxy answers the source's bytes as they are)."""
    info = read_header(source, loader)
    limits.check_source_pixels(info.stored_size.pixels)
    size = info.display_size
    limits.budget.check_result(source=(size.width, size.height), result=(size.width, size.height))
    with vips_errors(UnprocessableImage, UNPROCESSABLE):
        image = thumbnail(source, size.width, height=size.height, size="force")
        image, keep_profile = to_srgb(image)
    with vips_errors(ProcessingFailed, PROCESSING_FAILED):
        data = encode(image, fmt, po.quality_for(fmt), keep_profile=keep_profile)
    return ImageRendition(data=data, format=fmt, width=size.width, height=size.height)


def _trimmed(source: bytes | bytearray, display: Size, po: ProcessingOptions) -> VipsImage:
    """The source at full size, EXIF-rotated as asked, with its border trimmed off."""
    trim = po.trim
    if trim is None:
        raise ValueError("no trim requested")
    image = thumbnail(
        source, display.width, height=display.height, size="force", no_rotate=not po.auto_rotate
    ).copy_memory()
    flat = image.flatten(background=[255] * (image.bands - 1)) if image.hasalpha() else image
    background = list(trim.colour) if trim.colour is not None else flat(0, 0)
    if flat.bands < 3:
        flat = flat.colourspace("srgb")
        background = (list(background) * 3)[:3]
    left, top, width, height = flat.find_trim(threshold=trim.threshold, background=background)
    if width == 0 or height == 0:
        return image  # all background: imgproxy leaves such images as they are
    if trim.equal_horizontal:
        margin = min(left, image.width - left - width)
        left, width = margin, image.width - 2 * margin
    if trim.equal_vertical:
        margin = min(top, image.height - top - height)
        top, height = margin, image.height - 2 * margin
    return image.crop(left, top, width, height)


def _watermarked(
    image: VipsImage, data: bytes, po: ProcessingOptions, limits: VipsLimits
) -> VipsImage:
    """Lay the watermark over ``image``: scaled, faded by its opacity, placed by its
    gravity (offsets scaled by ``dpr``) or tiled; the watermark passes the source
    loader rules too."""
    mark = po.watermark
    if mark is None:
        return image
    loader = sniff_loader(data)
    if loader is None:
        raise UnprocessableImage("unprocessable watermark image")
    limits.check_loader(loader)
    width, height = int(image.width), int(image.height)
    if mark.scale > 0:
        target = max(1, round(width * mark.scale))
        overlay = pyvips.Image.thumbnail_buffer(data, target, height=MAX_DIMENSION, size="both")
    else:
        overlay = pyvips.Image.new_from_buffer(data, "")
    overlay = overlay.colourspace("srgb")
    if not overlay.hasalpha():
        overlay = overlay.bandjoin(255)
    overlay = overlay.cast("uchar")
    overlay = overlay[0:3].bandjoin(overlay[3] * mark.opacity).cast("uchar")
    if overlay.width > width or overlay.height > height:
        overlay = overlay.crop(0, 0, min(width, overlay.width), min(height, overlay.height))
    if mark.position is None:
        across = -(-width // overlay.width)
        down = -(-height // overlay.height)
        layer = overlay.replicate(across, down).crop(0, 0, width, height)
    else:
        gravity = Gravity(mark.position, mark.x, mark.y)
        left, top = position(
            Size(width, height), Size(overlay.width, overlay.height), gravity, po.dpr
        )
        layer = overlay.embed(left, top, width, height, extend="background", background=[0] * 4)
    had_alpha = image.hasalpha()
    base = image if had_alpha else image.bandjoin(255)
    result = base.composite2(layer, "over").cast("uchar")
    return result if had_alpha else result[0:3]


def _rotate_and_flip(image: VipsImage, po: ProcessingOptions) -> VipsImage:
    if po.rotate == 90:
        image = image.rot90()
    elif po.rotate == 180:
        image = image.rot180()
    elif po.rotate == 270:
        image = image.rot270()
    if po.flip_horizontal:
        image = image.fliphor()
    if po.flip_vertical:
        image = image.flipver()
    return image


def _crop(image: VipsImage, box: Size, gravity: Gravity, dpr: float) -> VipsImage:
    width = min(box.width, int(image.width))
    height = min(box.height, int(image.height))
    if width == image.width and height == image.height:
        return image
    if gravity.type is GravityType.SMART:
        # smartcrop reads its input more than once; the loader streams once. The
        # scaled image is within the result budget (checked before decoding).
        return image.copy_memory().smartcrop(width, height, interesting="attention")
    left, top = position(Size(image.width, image.height), Size(width, height), gravity, dpr)
    return image.crop(left, top, width, height)


def _filters(image: VipsImage, po: ProcessingOptions) -> VipsImage:
    if po.blur > 0:
        image = image.gaussblur(po.blur)
    if po.sharpen > 0:
        image = image.sharpen(sigma=po.sharpen)
    if po.pixelate > 1:
        size = po.pixelate
        width, height = int(image.width), int(image.height)
        small = image.resize(1 / size, kernel="linear")
        image = small.zoom(size, size).crop(
            0, 0, min(width, small.width * size), min(height, small.height * size)
        )
        if image.width < width or image.height < height:
            image = image.embed(0, 0, width, height, extend="copy")
    return image


def _background(image: VipsImage, po: ProcessingOptions, fmt: ImageFormat) -> list[float]:
    """The colour of added canvas: the ``background`` option, else transparent where
    the output keeps alpha, else white (JPEG)."""
    if po.background is not None:
        colour = [float(value) for value in po.background]
        return [*colour, 255.0] if image.hasalpha() else colour
    if fmt in _ALPHA_FORMATS:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(value) for value in _WHITE] + ([255.0] if image.hasalpha() else [])


def _with_alpha(image: VipsImage, background: list[float]) -> VipsImage:
    if len(background) == 4 and not image.hasalpha():
        return image.bandjoin(255)
    return image


def _embed(
    image: VipsImage, canvas: Size, gravity: Gravity, dpr: float, background: list[float]
) -> VipsImage:
    image = _with_alpha(image, background)
    inner = Size(int(image.width), int(image.height))
    left, top = position(canvas, inner, gravity, dpr)
    return image.embed(
        left, top, canvas.width, canvas.height, extend="background", background=background
    )
