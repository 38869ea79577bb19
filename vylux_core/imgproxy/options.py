"""imgproxy's processing-option grammar: ``/``-separated ``name:arg:arg`` segments.

Full and short names are those of imgproxy's processing documentation. Parsing is
strict: an unknown option or a malformed argument is an ``InvalidImageOptions``
naming the option (HTTP 400). Options are applied left to right, so a later option
overrides an earlier one, as in imgproxy; presets expand in place.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence

import attrs
from attrs import frozen

from vylux_core.errors import InvalidImageOptions
from vylux_core.images.options import MAX_DIMENSION, ImageFormat, go_quote


class ResizingType(enum.StrEnum):
    FIT = "fit"
    FILL = "fill"
    FILL_DOWN = "fill-down"
    FORCE = "force"
    AUTO = "auto"


class GravityType(enum.StrEnum):
    CENTRE = "ce"
    NORTH = "no"
    SOUTH = "so"
    EAST = "ea"
    WEST = "we"
    NORTH_EAST = "noea"
    NORTH_WEST = "nowe"
    SOUTH_EAST = "soea"
    SOUTH_WEST = "sowe"
    SMART = "sm"
    FOCUS_POINT = "fp"


@frozen
class Gravity:
    """``x``/``y``: pixel offsets for compass gravities (values below 1 are a share
    of the free space, as in imgproxy), the focal point (0–1) for ``fp``."""

    type: GravityType = GravityType.CENTRE
    x: float = 0.0
    y: float = 0.0


@frozen
class Crop:
    """``width``/``height`` in source pixels (below 1: a share of the source; 0: all)."""

    width: float
    height: float
    gravity: Gravity | None = None
    """None: the request's gravity."""


@frozen
class Trim:
    """``threshold``: colour distance still counted as background; ``colour`` None:
    the top-left pixel's; ``equal_*``: trim both sides of an axis alike."""

    threshold: float
    colour: tuple[int, int, int] | None = None
    equal_horizontal: bool = False
    equal_vertical: bool = False


@frozen
class Watermark:
    """``position``: a compass gravity, or None to replicate (tile) the watermark;
    ``scale``: its width as a share of the result's (0: its own size)."""

    opacity: float
    position: GravityType | None = GravityType.CENTRE
    x: float = 0.0
    y: float = 0.0
    scale: float = 0.0


@frozen
class Padding:
    top: int = 0
    right: int = 0
    bottom: int = 0
    left: int = 0


# imgproxy's output extensions; jpeg is an alias.
FORMAT_NAMES: Mapping[str, ImageFormat] = {
    "jpg": ImageFormat.JPG,
    "jpeg": ImageFormat.JPG,
    "png": ImageFormat.PNG,
    "webp": ImageFormat.WEBP,
    "avif": ImageFormat.AVIF,
    "gif": ImageFormat.GIF,
    "tiff": ImageFormat.TIFF,
    "tif": ImageFormat.TIFF,
}

UNAVAILABLE_FORMATS: Mapping[str, str] = {
    "jxl": "JPEG XL output is not available: the bundled libvips has no JPEG XL encoder",
}
"""imgproxy output formats this build cannot write, and why (named in the 400)."""


def unsupported_format(what: str, text: str) -> InvalidImageOptions:
    """The 400 for an output format outside :data:`FORMAT_NAMES`."""
    reason = UNAVAILABLE_FORMATS.get(text.lower())
    if reason is not None:
        return InvalidImageOptions(f"bad options: unsupported {what}: {go_quote(text)} ({reason})")
    return InvalidImageOptions(f"bad options: unsupported {what}: {go_quote(text)}")


MAX_ZOOM = 32.0
MAX_DPR = 8.0
MAX_SIGMA = 100.0
MAX_SHARPEN_SIGMA = 10.0  # libvips' sharpen takes sigma up to 10
MAX_PADDING = MAX_DIMENSION


@frozen(kw_only=True)
class ProcessingOptions:
    """Everything that shapes the rendition's bytes, plus the delivery-only fields
    (``filename``, ``return_attachment``, ``expires``) that the cache key leaves out."""

    resizing_type: ResizingType = ResizingType.FIT
    width: int = 0
    height: int = 0
    min_width: int = 0
    min_height: int = 0
    zoom_x: float = 1.0
    zoom_y: float = 1.0
    dpr: float = 1.0
    enlarge: bool = False
    extend: bool = False
    extend_gravity: Gravity = Gravity()
    extend_aspect_ratio: bool = False
    extend_aspect_ratio_gravity: Gravity = Gravity()
    gravity: Gravity = Gravity()
    crop: Crop | None = None
    trim: Trim | None = None
    watermark: Watermark | None = None
    padding: Padding = Padding()
    format: ImageFormat | None = None
    best_format: bool = False
    """``format:best``: encode in every allowed format and keep the smallest."""
    max_bytes: int = 0
    skip_processing: tuple[ImageFormat, ...] = ()
    quality: int = 0
    format_quality: tuple[tuple[ImageFormat, int], ...] = ()
    background: tuple[int, int, int] | None = None
    blur: float = 0.0
    sharpen: float = 0.0
    pixelate: int = 0
    rotate: int = 0
    flip_horizontal: bool = False
    flip_vertical: bool = False
    auto_rotate: bool = True
    cachebuster: str = ""
    # Delivery only: not part of the rendition's identity.
    filename: str = attrs.field(default="", eq=False)
    return_attachment: bool = attrs.field(default=False, eq=False)
    expires: int | None = attrs.field(default=None, eq=False)

    def quality_for(self, fmt: ImageFormat) -> int:
        """``format_quality`` for ``fmt``, else ``quality``, else the format's default."""
        for candidate, value in self.format_quality:
            if candidate is fmt:
                return value
        return self.quality or fmt.default_quality

    def canonical(self) -> str:
        """A stable text of every byte-shaping field: the cache key's options part."""
        parts = []
        for attribute in attrs.fields(ProcessingOptions):
            if not attribute.eq:
                continue
            parts.append(f"{attribute.name}={getattr(self, attribute.name)!r}")
        return ";".join(parts)


def cache_key(options: ProcessingOptions, source_key: str, output: str) -> str:
    """Names one rendition in the memory LRU and the storage cache; ``output`` is the
    format or the negotiation outcome. Prefixed so it never equals an ``/img`` key."""
    text = f"imgproxy\n{source_key}\n{output}\n{options.canonical()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- parsing -------------------------------------------------------------------------------

_Setter = Callable[[dict[str, object], str, list[str]], None]
_Presets = Mapping[str, Sequence[str]]


def parse_processing_options(
    segments: Sequence[str],
    *,
    presets: _Presets = {},  # noqa: B006 - read only
    only_presets: bool = False,
) -> ProcessingOptions:
    """Parse the option segments of a URL (the ``default`` preset first, if any).

    With ``only_presets`` every segment is a preset name, as imgproxy's
    ``IMGPROXY_ONLY_PRESETS`` has it.
    """
    values: dict[str, object] = {}
    if "default" in presets:
        _apply_segments(values, presets["default"], presets, depth=1)
    if only_presets:
        for segment in segments:
            for name in segment.split(":"):
                _apply_preset(values, name, presets, depth=1)
    else:
        _apply_segments(values, segments, presets, depth=0)
    try:
        return ProcessingOptions(**values)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:  # pragma: no cover - setters check types
        raise _bad(f"invalid options: {error}") from error


def parse_presets(text: str) -> dict[str, tuple[str, ...]]:
    """``IMGPROXY_PRESETS``: ``name=opt/opt,name=opt`` (raises ValueError when malformed;
    each preset's options are checked when the configuration is loaded)."""
    presets: dict[str, tuple[str, ...]] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, body = entry.partition("=")
        if not sep or not name.strip() or not body.strip():
            raise ValueError(f"invalid preset {entry!r}: expected name=options")
        segments = tuple(segment for segment in body.strip().split("/") if segment)
        presets[name.strip()] = segments
    for name in presets:
        parse_processing_options(presets[name], presets=presets)
    return presets


def _apply_segments(
    values: dict[str, object], segments: Sequence[str], presets: _Presets, *, depth: int
) -> None:
    for segment in segments:
        name, *args = segment.split(":")
        if name in ("preset", "pr"):
            if not args:
                raise _bad(f"invalid {name}: preset name expected")
            for preset in args:
                _apply_preset(values, preset, presets, depth=depth + 1)
            continue
        setter = _SETTERS.get(name)
        if setter is None:
            raise _bad(f"unknown option: {go_quote(name)}")
        setter(values, name, args)


def _apply_preset(values: dict[str, object], name: str, presets: _Presets, *, depth: int) -> None:
    if depth > 8:
        raise _bad(f"preset {go_quote(name)} nests too deeply")
    if name not in presets:
        raise _bad(f"unknown preset: {go_quote(name)}")
    _apply_segments(values, presets[name], presets, depth=depth)


def _bad(detail: str) -> InvalidImageOptions:
    return InvalidImageOptions(f"bad options: {detail}")


def _invalid(name: str, args: Sequence[str]) -> InvalidImageOptions:
    return _bad(f"invalid {name} arguments: {go_quote(':'.join(args))}")


def _arity(name: str, args: Sequence[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise _invalid(name, args)


_INT = re.compile(r"[0-9]{1,9}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{6}")


def _int(name: str, args: Sequence[str], raw: str, *, high: int) -> int:
    if _INT.fullmatch(raw) is None or int(raw) > high:
        raise _invalid(name, args)
    return int(raw)


def _float(name: str, args: Sequence[str], raw: str, *, low: float, high: float) -> float:
    if _FLOAT.fullmatch(raw) is None:
        raise _invalid(name, args)
    value = float(raw)
    if not (low <= value <= high) or math.isnan(value):
        raise _invalid(name, args)
    return value


def _bool(name: str, args: Sequence[str], raw: str) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise _invalid(name, args)


def _gravity(name: str, args: Sequence[str], parts: Sequence[str]) -> Gravity:
    if not parts or not parts[0]:
        raise _invalid(name, args)
    try:
        kind = GravityType(parts[0])
    except ValueError:
        raise _invalid(name, args) from None
    if kind is GravityType.SMART:
        if len(parts) != 1:
            raise _invalid(name, args)
        return Gravity(kind)
    if kind is GravityType.FOCUS_POINT:
        if len(parts) != 3:
            raise _invalid(name, args)
        x = _float(name, args, parts[1], low=0.0, high=1.0)
        y = _float(name, args, parts[2], low=0.0, high=1.0)
        return Gravity(kind, x, y)
    if len(parts) not in (1, 3):
        raise _invalid(name, args)
    if len(parts) == 1:
        return Gravity(kind)
    limit = float(MAX_DIMENSION)
    x = _float(name, args, parts[1], low=-limit, high=limit)
    y = _float(name, args, parts[2], low=-limit, high=limit)
    return Gravity(kind, x, y)


def _dimension(field: str) -> _Setter:
    """The setter of one pixel-count option (``width``, ``min_height`` …)."""

    def set_dimension(values: dict[str, object], name: str, args: list[str]) -> None:
        _arity(name, args, 1, 1)
        values[field] = _int(name, args, args[0], high=MAX_DIMENSION)

    return set_dimension


_set_width = _dimension("width")
_set_height = _dimension("height")
_set_min_width = _dimension("min_width")
_set_min_height = _dimension("min_height")


def _set_resizing_type(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    try:
        values["resizing_type"] = ResizingType(args[0])
    except ValueError:
        raise _invalid(name, args) from None


def _set_enlarge(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["enlarge"] = _bool(name, args, args[0])


def _extend_setter(key: str) -> _Setter:
    """``extend`` and ``extend_aspect_ratio``: a flag, then an optional gravity (not
    ``sm``) stored as ``{key}_gravity``."""

    def set_extend(values: dict[str, object], name: str, args: list[str]) -> None:
        _arity(name, args, 1, 4)
        values[key] = _bool(name, args, args[0])
        if len(args) > 1:
            gravity = _gravity(name, args, args[1:])
            if gravity.type is GravityType.SMART:
                raise _invalid(name, args)
            values[f"{key}_gravity"] = gravity

    return set_extend


_set_extend = _extend_setter("extend")
_set_extend_aspect_ratio = _extend_setter("extend_aspect_ratio")


def _set_size(values: dict[str, object], name: str, args: list[str]) -> None:
    """``size:w:h:enlarge:extend…``; empty arguments keep the current value."""
    _arity(name, args, 1, 7)
    setters: tuple[_Setter, ...] = (_set_width, _set_height, _set_enlarge)
    for setter, raw in zip(setters, args[:3], strict=False):
        if raw:
            try:
                setter(values, name, [raw])
            except InvalidImageOptions:
                raise _invalid(name, args) from None
    if len(args) > 3 and args[3]:
        try:
            _set_extend(values, name, args[3:])
        except InvalidImageOptions:
            raise _invalid(name, args) from None


def _set_resize(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 8)
    if args[0]:
        try:
            _set_resizing_type(values, name, [args[0]])
        except InvalidImageOptions:
            raise _invalid(name, args) from None
    if len(args) > 1:
        try:
            _set_size(values, name, args[1:])
        except InvalidImageOptions:
            raise _invalid(name, args) from None


def _set_zoom(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 2)
    x = _float(name, args, args[0], low=0.0, high=MAX_ZOOM)
    y = _float(name, args, args[1], low=0.0, high=MAX_ZOOM) if len(args) == 2 else x
    if x <= 0 or y <= 0:
        raise _invalid(name, args)
    values["zoom_x"], values["zoom_y"] = x, y


def _set_dpr(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    value = _float(name, args, args[0], low=0.0, high=MAX_DPR)
    if value <= 0:
        raise _invalid(name, args)
    values["dpr"] = value


def _set_gravity(values: dict[str, object], name: str, args: list[str]) -> None:
    values["gravity"] = _gravity(name, args, args)


def _set_crop(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 2, 5)
    limit = float(MAX_DIMENSION)
    width = _float(name, args, args[0], low=0.0, high=limit)
    height = _float(name, args, args[1], low=0.0, high=limit)
    gravity = _gravity(name, args, args[2:]) if len(args) > 2 else None
    values["crop"] = Crop(width, height, gravity)


def _set_trim(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 4)
    threshold = _float(name, args, args[0], low=0.0, high=255.0)
    colour = None
    if len(args) > 1 and args[1]:
        if _HEX_COLOUR.fullmatch(args[1]) is None:
            raise _invalid(name, args)
        raw = args[1]
        colour = (int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16))
    equal_h = _bool(name, args, args[2]) if len(args) > 2 and args[2] else False
    equal_v = _bool(name, args, args[3]) if len(args) > 3 and args[3] else False
    values["trim"] = Trim(threshold, colour, equal_h, equal_v)


def _set_watermark(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 5)
    opacity = _float(name, args, args[0], low=0.0, high=1.0)
    if opacity == 0:
        values["watermark"] = None
        return
    position: GravityType | None = GravityType.CENTRE
    if len(args) > 1 and args[1]:
        if args[1] == "re":
            position = None
        else:
            try:
                position = GravityType(args[1])
            except ValueError:
                raise _invalid(name, args) from None
            if position in (GravityType.SMART, GravityType.FOCUS_POINT):
                raise _invalid(name, args)
    limit = float(MAX_DIMENSION)
    x = _float(name, args, args[2], low=-limit, high=limit) if len(args) > 2 and args[2] else 0.0
    y = _float(name, args, args[3], low=-limit, high=limit) if len(args) > 3 and args[3] else 0.0
    scale = _float(name, args, args[4], low=0.0, high=1.0) if len(args) > 4 and args[4] else 0.0
    values["watermark"] = Watermark(opacity, position, x, y, scale)


def _set_padding(values: dict[str, object], name: str, args: list[str]) -> None:
    """CSS order: ``top:right:bottom:left``; missing sides repeat as in CSS."""
    _arity(name, args, 1, 4)
    sides = [_int(name, args, raw, high=MAX_PADDING) if raw else 0 for raw in args]
    top = sides[0]
    right = sides[1] if len(sides) > 1 else top
    bottom = sides[2] if len(sides) > 2 else top
    left = sides[3] if len(sides) > 3 else right
    values["padding"] = Padding(top, right, bottom, left)


def _set_format(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["best_format"] = args[0].lower() == "best"
    if values["best_format"]:
        values["format"] = None
        return
    fmt = FORMAT_NAMES.get(args[0].lower())
    if fmt is None:
        raise unsupported_format(name, args[0])
    values["format"] = fmt


def _set_max_bytes(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["max_bytes"] = _int(name, args, args[0], high=10**9)


def _set_skip_processing(values: dict[str, object], name: str, args: list[str]) -> None:
    formats = []
    for raw in args:
        fmt = FORMAT_NAMES.get(raw.lower())
        if fmt is None:
            raise _invalid(name, args)
        formats.append(fmt)
    if not formats:
        raise _invalid(name, args)
    values["skip_processing"] = tuple(sorted(set(formats)))


def _set_quality(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["quality"] = _int(name, args, args[0], high=100)


def _set_format_quality(values: dict[str, object], name: str, args: list[str]) -> None:
    if not args or len(args) % 2:
        raise _invalid(name, args)
    pairs: dict[ImageFormat, int] = {}
    for index in range(0, len(args), 2):
        fmt = FORMAT_NAMES.get(args[index].lower())
        if fmt is None:
            raise _invalid(name, args)
        pairs[fmt] = _int(name, args, args[index + 1], high=100)
    values["format_quality"] = tuple(sorted(pairs.items()))


def _set_background(values: dict[str, object], name: str, args: list[str]) -> None:
    if args == [""] or not args:
        values["background"] = None
        return
    if len(args) == 1 and _HEX_COLOUR.fullmatch(args[0]):
        raw = args[0]
        values["background"] = (int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16))
        return
    if len(args) == 3:
        red, green, blue = (_int(name, args, raw, high=255) for raw in args)
        values["background"] = (red, green, blue)
        return
    raise _invalid(name, args)


def _set_blur(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["blur"] = _float(name, args, args[0], low=0.0, high=MAX_SIGMA)


def _set_sharpen(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["sharpen"] = _float(name, args, args[0], low=0.0, high=MAX_SHARPEN_SIGMA)


def _set_pixelate(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["pixelate"] = _int(name, args, args[0], high=MAX_DIMENSION)


def _set_rotate(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    angle = _int(name, args, args[0].lstrip("-") or "x", high=3600)
    if args[0].startswith("-"):
        angle = -angle
    if angle % 90:
        raise _bad(f"invalid {name} arguments: {go_quote(args[0])} (a multiple of 90 expected)")
    values["rotate"] = angle % 360


def _set_flip(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 2)
    values["flip_horizontal"] = _bool(name, args, args[0])
    values["flip_vertical"] = _bool(name, args, args[1]) if len(args) == 2 else False


def _set_auto_rotate(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["auto_rotate"] = _bool(name, args, args[0])


def _set_strip_metadata(values: dict[str, object], name: str, args: list[str]) -> None:
    # Accepted for compatibility; metadata is always stripped (docs/security.md).
    _arity(name, args, 1, 1)
    _bool(name, args, args[0])


def _set_accepted_bool(values: dict[str, object], name: str, args: list[str]) -> None:
    # keep_copyright, strip_color_profile: accepted for compatibility; metadata is
    # always stripped and colour converted to sRGB (docs/security.md).
    _arity(name, args, 1, 1)
    _bool(name, args, args[0])


def _set_cachebuster(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["cachebuster"] = args[0]


def _set_filename(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 2)
    values["filename"] = args[0]
    if len(args) == 2 and _bool(name, args, args[1]):
        try:
            padded = args[0] + "=" * (-len(args[0]) % 4)
            values["filename"] = base64.urlsafe_b64decode(padded).decode("utf-8")
        except ValueError:
            raise _invalid(name, args) from None


def _set_return_attachment(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    values["return_attachment"] = _bool(name, args, args[0])


def _set_expires(values: dict[str, object], name: str, args: list[str]) -> None:
    _arity(name, args, 1, 1)
    if _TIMESTAMP.fullmatch(args[0]) is None:
        raise _invalid(name, args)
    values["expires"] = int(args[0])


_SETTERS: Mapping[str, _Setter] = {
    **dict.fromkeys(("resize", "rs"), _set_resize),
    **dict.fromkeys(("size", "s"), _set_size),
    **dict.fromkeys(("resizing_type", "rt"), _set_resizing_type),
    **dict.fromkeys(("width", "w"), _set_width),
    **dict.fromkeys(("height", "h"), _set_height),
    **dict.fromkeys(("min-width", "min_width", "mw"), _set_min_width),
    **dict.fromkeys(("min-height", "min_height", "mh"), _set_min_height),
    **dict.fromkeys(("zoom", "z"), _set_zoom),
    "dpr": _set_dpr,
    **dict.fromkeys(("enlarge", "el"), _set_enlarge),
    **dict.fromkeys(("extend", "ex"), _set_extend),
    **dict.fromkeys(("gravity", "g"), _set_gravity),
    **dict.fromkeys(("crop", "c"), _set_crop),
    **dict.fromkeys(("padding", "pd"), _set_padding),
    **dict.fromkeys(("trim", "t"), _set_trim),
    **dict.fromkeys(("watermark", "wm"), _set_watermark),
    **dict.fromkeys(("format", "f", "ext"), _set_format),
    **dict.fromkeys(("quality", "q"), _set_quality),
    **dict.fromkeys(("format_quality", "fq"), _set_format_quality),
    **dict.fromkeys(("background", "bg"), _set_background),
    **dict.fromkeys(("blur", "bl"), _set_blur),
    **dict.fromkeys(("sharpen", "sh"), _set_sharpen),
    **dict.fromkeys(("pixelate", "pix"), _set_pixelate),
    **dict.fromkeys(("rotate", "rot"), _set_rotate),
    **dict.fromkeys(("flip", "fl"), _set_flip),
    **dict.fromkeys(("auto_rotate", "ar"), _set_auto_rotate),
    **dict.fromkeys(("strip_metadata", "sm"), _set_strip_metadata),
    **dict.fromkeys(("keep_copyright", "kcr"), _set_accepted_bool),
    **dict.fromkeys(("strip_color_profile", "scp"), _set_accepted_bool),
    **dict.fromkeys(("extend_aspect_ratio", "extend_ar", "exar"), _set_extend_aspect_ratio),
    **dict.fromkeys(("max_bytes", "mb"), _set_max_bytes),
    # imgproxy documents "skp"; its official JavaScript client writes "sp".
    **dict.fromkeys(("skip_processing", "skp", "sp"), _set_skip_processing),
    **dict.fromkeys(("cachebuster", "cb"), _set_cachebuster),
    **dict.fromkeys(("filename", "fn"), _set_filename),
    **dict.fromkeys(("return_attachment", "att"), _set_return_attachment),
    **dict.fromkeys(("expires", "exp"), _set_expires),
}

OPTION_NAMES = frozenset(_SETTERS) | {"preset", "pr"}
"""Every option name this service understands (full and short)."""
