"""ImgproxyService: imgproxy's URL dialect on the ``/img`` rendition machinery.

It parses and verifies a request, negotiates the output format and names the
rendition by its canonical options; :meth:`ImageService.rendition` then serves it
from memory, the storage cache or the source, exactly as for ``/img``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence

import attrs
from attrs import Factory, frozen

from vylux_core.errors import InvalidImageOptions, UrlExpired
from vylux_core.images.options import ImageFormat, go_quote
from vylux_core.images.result_budget import ResultBudget
from vylux_core.imgproxy.options import ProcessingOptions, cache_key, parse_processing_options
from vylux_core.imgproxy.url import ImgproxySigner, parse_request_path
from vylux_core.ports.image_inspector import ImageDescription, ImageInspector
from vylux_core.ports.image_processor import ImageTransform
from vylux_core.services.image_service import Document, ImageService, Rendition


@frozen(kw_only=True)
class ImgproxySettings:
    signer: ImgproxySigner
    presets: Mapping[str, tuple[str, ...]] = Factory(dict)
    only_presets: bool = False
    auto_avif: bool = True
    auto_webp: bool = True
    source_bucket: str = ""
    budget: ResultBudget = Factory(ResultBudget)
    watermark_key: str | None = None
    """The source-store key of the watermark image (``IMGPROXY_WATERMARK_PATH``)."""


@frozen(kw_only=True)
class ImgproxyInfo:
    """The info endpoint's facts: the source's description and byte size."""

    description: ImageDescription
    bytes: int
    source_key: str

    def as_json(self) -> dict[str, object]:
        facts = self.description
        return {
            "width": facts.width,
            "height": facts.height,
            "format": facts.format,
            "bytes": self.bytes,
            "frames": facts.frames,
            "delays": list(facts.delays),
            "orientation": facts.orientation,
            "color_space": facts.colour_space,
            "alpha": facts.alpha,
            "blurhash": facts.blurhash,
            "thumbhash": facts.thumbhash,
            "dominant_color": facts.dominant_colour,
        }


def encoded_info(info: ImgproxyInfo) -> bytes:
    """The info answer's body: compact JSON, the same bytes for the same facts."""
    return json.dumps(info.as_json(), separators=(",", ":")).encode("utf-8")


@frozen(kw_only=True)
class ImgproxyAnswer:
    rendition: Rendition
    vary_accept: bool
    """The format came from ``Accept``: caches must key on it."""
    options: ProcessingOptions
    download_stem: str
    """The name the rendition is offered under, without extension: ``filename`` or the
    source's base name."""


def accepted_types(accept: str) -> frozenset[str]:
    """Media types ``Accept`` allows (q=0 entries left out), lower-cased."""
    types = set()
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        refused = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if media and not refused:
            types.add(media.lower())
    return frozenset(types)


def negotiate(accept: str, *, auto_avif: bool, auto_webp: bool) -> ImageFormat | None:
    """AVIF, then WebP, when ``Accept`` names them explicitly and the switch is on;
    None: the source's format decides (imgproxy's ``determineOutputFormat``)."""
    types = accepted_types(accept)
    if auto_avif and "image/avif" in types:
        return ImageFormat.AVIF
    if auto_webp and "image/webp" in types:
        return ImageFormat.WEBP
    return None


MAX_REMEMBERED_REQUESTS = 4096


@frozen(kw_only=True)
class _Prepared:
    key: str
    source_key: str
    transform: ImageTransform
    vary: bool
    options: ProcessingOptions
    download_stem: str


@frozen(kw_only=True)
class _InfoRequest:
    segments: tuple[str, ...]
    source_key: str


class ImgproxyService:
    def __init__(
        self,
        *,
        images: ImageService,
        settings: ImgproxySettings,
        inspector: ImageInspector | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._images = images
        self._inspector = inspector
        self._settings = settings
        self._now = now
        self._prepared: dict[tuple[str, str, str], _Prepared] = {}
        self._watermark_bytes: tuple[bytes, str] | None = None

    async def render(self, signature: str, path: str, accept: str) -> ImgproxyAnswer | Document:
        """``path`` is the raw, signed path after the signature: ``/{options…}/…``;
        a signed ``/info/…`` path is answered with the info document.

        Raises ``InvalidSignature`` (403) before anything else is looked at, then
        ``InvalidStorageKey``/``InvalidImageOptions`` (400), ``UrlExpired`` (404) and
        whatever :meth:`ImageService.rendition` raises.
        """
        request = (signature, path, accept)
        prepared = self._prepared.get(request)
        if prepared is None:
            found = self._prepare(signature, path, accept)
            if isinstance(found, _InfoRequest):
                return await self._info(found.segments, found.source_key)
            prepared = found
            if len(self._prepared) >= MAX_REMEMBERED_REQUESTS:
                # Oldest first, as ImageService does for /img.
                del self._prepared[next(iter(self._prepared))]
            self._prepared[request] = prepared
        self._check_expiry(prepared.options)
        key, transform = prepared.key, prepared.transform
        if prepared.options.watermark is not None:
            watermark, digest = await self._watermark()
            key = hashlib.sha256(f"{key}\n{digest}".encode()).hexdigest()
            transform = attrs.evolve(transform, watermark=watermark)
        rendition = await self._images.rendition(key, prepared.source_key, transform)
        return ImgproxyAnswer(
            rendition=rendition,
            vary_accept=prepared.vary,
            options=prepared.options,
            download_stem=prepared.download_stem,
        )

    async def info(self, signature: str, path: str) -> Document:
        """The info endpoint in imgproxy Pro's form, ``{prefix}/info/{signature}/…``
        (what imgproxy's client libraries build): ``path`` is the signed
        ``/{options…}/…``. Vylux's form, ``{prefix}/{signature}/info/…``, is a path
        :meth:`render` answers. Raises as :meth:`render` does."""
        settings = self._settings
        settings.signer.verify(signature, path)
        request = parse_request_path("/info" + path, source_bucket=settings.source_bucket)
        return await self._info(request.segments, request.source_key)

    def _prepare(self, signature: str, path: str, accept: str) -> _Prepared | _InfoRequest:
        """Verify, parse and name the rendition: pure functions of the request's
        signature, path and ``Accept``, so a request seen before skips them."""
        settings = self._settings
        settings.signer.verify(signature, path)
        request = parse_request_path(path, source_bucket=settings.source_bucket)
        if request.info:
            return _InfoRequest(segments=request.segments, source_key=request.source_key)
        options = parse_processing_options(
            request.segments, presets=settings.presets, only_presets=settings.only_presets
        )
        self._check_expiry(options)
        if options.watermark is not None and settings.watermark_key is None:
            raise InvalidImageOptions(
                "bad options: watermark needs IMGPROXY_WATERMARK_PATH to be configured"
            )
        box = (
            round(options.width * options.dpr * options.zoom_x),
            round(options.height * options.dpr * options.zoom_y),
        )
        if (excess := settings.budget.box_excess(*box)) is not None:
            raise InvalidImageOptions(f"bad options: {excess}")
        explicit = request.format or options.format
        vary = (
            explicit is None
            and not options.best_format
            and (settings.auto_avif or settings.auto_webp)
        )
        fmt = explicit
        if fmt is None and not options.best_format:
            fmt = negotiate(accept, auto_avif=settings.auto_avif, auto_webp=settings.auto_webp)
        transform = ImageTransform(
            format=fmt or ImageFormat.JPG,
            quality=options.quality_for(fmt or ImageFormat.JPG),
            processing=options,
            format_from_source=fmt is None,
        )
        output = "best" if options.best_format else fmt.value if fmt else "source"
        return _Prepared(
            key=cache_key(options, request.source_key, output),
            source_key=request.source_key,
            transform=transform,
            vary=vary,
            options=options,
            download_stem=options.filename
            or request.source_key.rsplit("/", 1)[-1].rsplit(".", 1)[0],
        )

    async def _watermark(self) -> tuple[bytes, str]:
        """The watermark's bytes and digest, read once from the source store (a
        replaced watermark is picked up on restart)."""
        if self._watermark_bytes is None:
            key = self._settings.watermark_key
            if key is None:  # _prepare refuses such requests
                raise InvalidImageOptions("bad options: no watermark is configured")

            async def read(data: bytearray) -> bytes:
                return bytes(data)

            data = await self._images.with_source(key, read)
            self._watermark_bytes = (data, hashlib.sha256(data).hexdigest())
        return self._watermark_bytes

    def _check_expiry(self, options: ProcessingOptions) -> None:
        if options.expires is not None and options.expires < self._now():
            raise UrlExpired("expired URL")

    async def _info(self, segments: tuple[str, ...], source_key: str) -> Document:
        """``/info/…``: options other than ``expires`` and ``cachebuster`` shape
        renditions, not facts, and are refused. The JSON is cached as renditions are,
        named by the source and the canonical options (``cachebuster`` included)."""
        if self._inspector is None:
            raise InvalidImageOptions("bad options: the info endpoint is not available")
        options = parse_info_options(segments)
        self._check_expiry(options)
        inspector = self._inspector

        async def describe(source: bytearray) -> bytes:
            description = await inspector.describe(source)
            info = ImgproxyInfo(description=description, bytes=len(source), source_key=source_key)
            return encoded_info(info)

        key = cache_key(options, source_key, INFO_OUTPUT)
        return await self._images.document(key, source_key, describe)


INFO_OUTPUT = "info"
"""The ``output`` part of an info answer's cache key (renditions name a format)."""


_INFO_OPTIONS = frozenset({"expires", "exp", "cachebuster", "cb"})


def parse_info_options(segments: Sequence[str]) -> ProcessingOptions:
    """The info endpoint's options: ``expires`` and ``cachebuster`` only (the others
    shape renditions, not facts); anything else is an ``InvalidImageOptions``."""
    for segment in segments:
        if segment.split(":", 1)[0] not in _INFO_OPTIONS:
            raise InvalidImageOptions(
                f"bad options: the info endpoint takes only expires and cachebuster, "
                f"got {go_quote(segment)}"
            )
    return parse_processing_options(segments)
