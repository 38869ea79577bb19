"""The ``/img`` option grammar: output formats, resize options, their canonical forms."""

from __future__ import annotations

import enum
import hashlib
import re

from attrs import field, frozen, validators

from vylux_core.errors import InvalidImageOptions, UnsupportedFormat

# Unbounded dimensions would let one signed URL ask libvips for an arbitrarily large
# canvas (D7).
MAX_DIMENSION = 8192

# An integer as the option grammar defines it: optional sign, ASCII digits only
# (Python's int() would also take "1_000", " 7" and non-ASCII digits).
_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INT64_DIGITS = len(str(_INT64_MAX))

_GO_NAMED_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


class ImageFormat(enum.StrEnum):
    WEBP = "webp"
    AVIF = "avif"
    JPG = "jpg"
    PNG = "png"
    GIF = "gif"
    TIFF = "tiff"
    """imgproxy's dialect only: ``/img`` and thumbnail jobs keep the five formats of
    :data:`REFERENCE_FORMATS`."""

    @property
    def extension(self) -> str:
        """Canonical file extension without the dot (``jpeg`` requests become ``jpg``)."""
        return self.value

    @property
    def mime_type(self) -> str:
        return _MIME_TYPES[self]

    @property
    def default_quality(self) -> int:
        """Encoder quality used when ``q`` is absent; 0 where the encoder takes none."""
        return _DEFAULT_QUALITY[self]

    @property
    def animatable(self) -> bool:
        """Only these outputs keep every frame of an animated source."""
        return self in (ImageFormat.WEBP, ImageFormat.GIF)


_MIME_TYPES = {
    ImageFormat.WEBP: "image/webp",
    ImageFormat.AVIF: "image/avif",
    ImageFormat.JPG: "image/jpeg",
    ImageFormat.PNG: "image/png",
    ImageFormat.GIF: "image/gif",
    ImageFormat.TIFF: "image/tiff",
}

_DEFAULT_QUALITY = {
    ImageFormat.WEBP: 80,
    ImageFormat.AVIF: 50,
    ImageFormat.JPG: 80,
    ImageFormat.PNG: 0,
    ImageFormat.GIF: 0,
    ImageFormat.TIFF: 0,
}

REFERENCE_FORMATS = frozenset(
    {ImageFormat.WEBP, ImageFormat.AVIF, ImageFormat.JPG, ImageFormat.PNG, ImageFormat.GIF}
)
"""The outputs of the ``/img`` grammar and of thumbnail jobs."""

FORMAT_ALIASES = {"jpeg": ImageFormat.JPG}


_MAGIC = (
    (b"\xff\xd8\xff", 0, ImageFormat.JPG),
    (b"\x89PNG\r\n\x1a\n", 0, ImageFormat.PNG),
    (b"GIF8", 0, ImageFormat.GIF),
    (b"WEBP", 8, ImageFormat.WEBP),
    (b"ftypavif", 4, ImageFormat.AVIF),
    (b"II*\x00", 0, ImageFormat.TIFF),
    (b"MM\x00*", 0, ImageFormat.TIFF),
)


def format_of_bytes(data: bytes) -> ImageFormat | None:
    """The output format whose signature ``data`` starts with (None: none of them)."""
    for magic, offset, fmt in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return fmt
    return None


def parse_format(text: str) -> ImageFormat:
    """Map an extension (``WEBP``, ``.jpeg``, ...) to one of :data:`REFERENCE_FORMATS`,
    else raise UnsupportedFormat."""
    name = text.removeprefix(".")
    # Only ASCII spellings count. Unicode case mapping differs between Go and Python
    # (Go lower-cases "AVİF" to "avif", Python does not), so neither is trusted here.
    if name.isascii():
        name = name.lower()
        if name in FORMAT_ALIASES:
            return FORMAT_ALIASES[name]
        try:
            fmt = ImageFormat(name)
        except ValueError:
            pass
        else:
            if fmt in REFERENCE_FORMATS:
                return fmt
    raise UnsupportedFormat("unsupported output format")


_DIMENSION = validators.optional(
    [validators.instance_of(int), validators.ge(0), validators.le(MAX_DIMENSION)]
)
_QUALITY = validators.optional([validators.instance_of(int), validators.ge(1), validators.le(100)])


@frozen(kw_only=True)
class ImageOptions:
    """Parsed ``/img`` options; ``None`` means the token was absent (``w0`` is not ``None``)."""

    width: int | None = field(default=None, validator=_DIMENSION)
    height: int | None = field(default=None, validator=_DIMENSION)
    quality: int | None = field(default=None, validator=_QUALITY)

    @property
    def is_empty(self) -> bool:
        return self.width is None and self.height is None and self.quality is None


def parse_image_options(text: str) -> ImageOptions:
    """Parse the ``opts`` path segment; raise InvalidImageOptions on any error."""
    if text == "":
        return ImageOptions()
    values: dict[str, int] = {}
    for token in text.split("_"):
        if len(token) < 2:
            raise _bad(f"invalid option token: {go_quote(token)}")
        letter, raw = token[0], token[1:]
        if letter == "w":
            values["width"] = _dimension(raw, "width")
        elif letter == "h":
            values["height"] = _dimension(raw, "height")
        elif letter == "q":
            values["quality"] = _quality(raw)
        else:
            raise _bad(f"unknown option prefix: {go_quote(letter)}")
    return ImageOptions(**values)


def _go_atoi(raw: str) -> int | None:
    if _GO_INT.fullmatch(raw) is None:
        return None
    # int() refuses more than 4300 digits (ValueError, a 500 for "w" + "9" * 5000);
    # anything past 19 significant digits is outside int64 anyway.
    digits = raw.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _INT64_DIGITS:
        return None
    value = -int(digits) if raw.startswith("-") else int(digits)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _dimension(raw: str, name: str) -> int:
    value = _go_atoi(raw)
    if value is None or value < 0:
        raise _bad(f"invalid {name}: {go_quote(raw)}")
    if value > MAX_DIMENSION:
        raise _bad(f"{name} exceeds {MAX_DIMENSION}: {go_quote(raw)}")
    return value


def _quality(raw: str) -> int:
    value = _go_atoi(raw)
    if value is None or not 1 <= value <= 100:
        raise _bad(f"invalid quality: {go_quote(raw)} (must be 1-100)")
    return value


def _bad(detail: str) -> InvalidImageOptions:
    return InvalidImageOptions(f"bad options: {detail}")


def canonical_options(opts: ImageOptions) -> str:
    """Present tokens in the order w, h, q with plain decimal values (``+007`` → ``7``)."""
    tokens = [
        f"{letter}{value}"
        for letter, value in (("w", opts.width), ("h", opts.height), ("q", opts.quality))
        if value is not None
    ]
    return "_".join(tokens)


def effective_quality(opts: ImageOptions, fmt: ImageFormat) -> int:
    return opts.quality if opts.quality is not None else fmt.default_quality


def cache_key_string(source_key: str, opts: ImageOptions, fmt: ImageFormat) -> str:
    """The processing-hash input (spec §5.1.5: cache keys must match it byte for byte);
    absent w/h count as 0, unlike signing."""
    width = opts.width or 0
    height = opts.height or 0
    quality = effective_quality(opts, fmt)
    return f"{source_key}/w{width}_h{height}_q{quality}.{fmt.extension}"


def processing_hash(source_key: str, opts: ImageOptions, fmt: ImageFormat) -> str:
    """Names one rendition in the memory LRU and the storage cache."""
    text = cache_key_string(source_key, opts, fmt)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def go_quote(text: str) -> str:
    """Quote like Go's ``%q``: the spec's error messages embed values in that form."""
    out = ['"']
    for char in text:
        named = _GO_NAMED_ESCAPES.get(char)
        code = ord(char)
        if named is not None:
            out.append(named)
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF:
            # str.isprintable and Go's unicode.IsPrint agree: letters, marks,
            # numbers, punctuation, symbols and the ASCII space.
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
