"""Captions of a video transcode: the ``captions`` option, its checks, and
sidecar files read as WebVTT (SRT converted).

A sidecar is a WebVTT or SRT object in the source store; it is checked when the job is
submitted (the object exists, is at most :data:`MAX_CAPTION_BYTES`, parses and holds a cue)
and read again when the job runs. Text tracks embedded in the source are found by the
media toolchain and need no option.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from attrs import field, frozen

from vylux_core.errors import InvalidOptions, ObjectNotFound

if TYPE_CHECKING:
    # Only for annotations: the ports package imports this module (the toolchain port).
    from vylux_core.ports.object_store import ObjectInfo, ObjectReader

MAX_CAPTIONS: Final = 16
MAX_CAPTION_BYTES: Final = 2 * 1024 * 1024
MAX_CAPTION_NAME: Final = 64
MAX_SOURCE_KEY: Final = 1024

# RFC 5646 §2.1 well-formed language tags (the regular forms; the grandfathered irregular
# tags such as "i-klingon" are left out): language, extlang, script, region, variants,
# extensions, private use.
_LANGUAGE_TAG: Final = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+",
    re.IGNORECASE,
)
# WebVTT and SRT cue timings: [hh:]mm:ss.ttt (SRT: hh:mm:ss,ttt).
_TIMESTAMP: Final = r"(?:\d{1,}:)?[0-5]\d:[0-5]\d[.,]\d{3}"
_TIMING: Final = re.compile(rf"^\s*({_TIMESTAMP})\s+-->\s+({_TIMESTAMP})(.*)$")


class CaptionOrigin(enum.StrEnum):
    SIDECAR = "sidecar"
    EMBEDDED = "embedded"


@frozen(kw_only=True)
class CaptionOption:
    """One entry of ``options.captions``: a sidecar file in the source store."""

    source: str
    language: str
    name: str
    default: bool = False


@frozen(kw_only=True)
class CaptionText:
    """A caption track ready to package: its WebVTT text and how players list it."""

    language: str
    name: str
    default: bool
    origin: CaptionOrigin
    webvtt: str = field(repr=False)


class CaptionFormatError(ValueError):
    """Caption bytes that are neither WebVTT nor SRT with at least one cue."""


def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BCP 47 language tag (``en``, ``pt-BR``, ``und``)."""
    return _LANGUAGE_TAG.fullmatch(tag) is not None


def decode_captions(raw: Any, where: str) -> tuple[CaptionOption, ...]:
    """The ``captions`` array at ``where`` (``options.captions``); ``None`` means none.

    Raises :class:`InvalidOptions` naming the entry: a missing or mistyped field, a
    language that is not a BCP 47 tag, two entries with one name (players list tracks by
    name) or more than one default.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _invalid(f"{where} must be an array")
    if len(raw) > MAX_CAPTIONS:
        raise _invalid(f"{where} may hold at most {MAX_CAPTIONS} items")
    captions = tuple(_caption(item, f"{where}[{index}]") for index, item in enumerate(raw))
    seen: dict[str, int] = {}
    for index, caption in enumerate(captions):
        if caption.name in seen:
            raise _invalid(
                f"{where}[{index}].name {caption.name!r} is also the name of "
                f"{where}[{seen[caption.name]}]"
            )
        seen[caption.name] = index
    defaults = [index for index, caption in enumerate(captions) if caption.default]
    if len(defaults) > 1:
        raise _invalid(f"{where}[{defaults[1]}].default: at most one caption may be the default")
    return captions


def canonical_captions(captions: Sequence[CaptionOption]) -> list[dict[str, Any]]:
    fields = []
    for caption in captions:
        entry: dict[str, Any] = {
            "source": caption.source, "language": caption.language, "name": caption.name,
        }  # fmt: skip
        if caption.default:
            entry["default"] = True
        fields.append(entry)
    return fields


def _caption(raw: Any, where: str) -> CaptionOption:
    if not isinstance(raw, Mapping):
        raise _invalid(f"{where} must be an object")
    for key in raw:
        if key not in ("source", "language", "name", "default"):
            raise _invalid(f'unknown field "{key}" in {where}')
    source = _required_text(raw, "source", where, MAX_SOURCE_KEY, plain=False)
    language = _required_text(raw, "language", where, 64)
    if not is_language_tag(language):
        raise _invalid(f"{where}.language {language!r} is not a BCP 47 language tag")
    name_value = raw.get("name")
    name = language if name_value is None else _required_text(raw, "name", where, MAX_CAPTION_NAME)
    default = raw.get("default")
    if default is None:  # null reads as absent, as everywhere in options
        default = False
    if not isinstance(default, bool):
        raise _invalid(f"{where}.default must be a boolean")
    return CaptionOption(source=source, language=language, name=name, default=default)


def _required_text(
    raw: Mapping[str, Any], key: str, where: str, limit: int, *, plain: bool = True
) -> str:
    """A non-blank string of at most ``limit`` characters; ``plain`` ones also go into
    the packager's comma-separated stream descriptors and quoted playlist attributes."""
    value = raw.get(key)
    if value is None:
        raise _invalid(f"{where}.{key} is required")
    if not isinstance(value, str):
        raise _invalid(f"{where}.{key} must be a string")
    if not plain:
        if not value.strip() or len(value) > limit or "\x00" in value:
            raise _invalid(f"{where}.{key} must be 1 to {limit} characters")
        return value
    if not value.strip() or len(value) > limit or any(ch in value for ch in '\r\n",\x00'):
        raise _invalid(f"{where}.{key} must be 1 to {limit} characters, without quotes, "
                       "commas or line breaks")  # fmt: skip
    return value


def _invalid(detail: str) -> InvalidOptions:
    return InvalidOptions(f"invalid options: {detail}")


# --- WebVTT / SRT -------------------------------------------------------------------------


def to_webvtt(data: bytes) -> str:
    """``data`` (UTF-8 WebVTT or SRT) as WebVTT text with at least one cue.

    WebVTT passes through with normalised line ends; SRT becomes WebVTT (``,`` before the
    milliseconds turns into ``.``, cue numbers stay as cue identifiers). Raises
    :class:`CaptionFormatError`.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptionFormatError(f"is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise CaptionFormatError("is not text (it holds NUL bytes)")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if re.fullmatch(r"WEBVTT(?:[ \t].*)?", lines[0]):
        cues = _count_cues(lines, srt=False)
        body = lines
    else:
        cues = _count_cues(lines, srt=True)
        body = ["WEBVTT", "", *_srt_body(lines)]
    if cues == 0:
        raise CaptionFormatError("is neither WebVTT nor SRT with at least one cue")
    return "\n".join(body).rstrip("\n") + "\n"


def _count_cues(lines: Sequence[str], *, srt: bool) -> int:
    count = 0
    for number, line in enumerate(lines):
        if "-->" not in line:
            continue
        timing = _TIMING.match(line)
        # SRT writes "," before the milliseconds, WebVTT only ".".
        if timing is None or (not srt and "," in timing.group(1) + timing.group(2)):
            raise CaptionFormatError(f"has a bad cue timing on line {number + 1}")
        if _seconds(timing.group(2)) < _seconds(timing.group(1)):
            raise CaptionFormatError(f"has a cue that ends before it starts (line {number + 1})")
        count += 1
    return count


def _srt_body(lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        timing = _TIMING.match(line) if "-->" in line else None
        if timing is not None:
            # SRT's cue settings (X1:… Y2:…) mean nothing to WebVTT and are dropped.
            line = f"{_vtt_time(timing.group(1))} --> {_vtt_time(timing.group(2))}"
        out.append(line)
    return out


def _vtt_time(stamp: str) -> str:
    stamp = stamp.replace(",", ".")
    return stamp if stamp.count(":") == 2 else f"00:{stamp}"


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    return sum(float(part) * 60.0**power for power, part in enumerate(reversed(parts)))


# --- reading sidecars from the source store --------------------------------------------------


class CaptionSource(Protocol):
    """What reading a sidecar needs from the source store."""

    async def stat(self, key: str) -> ObjectInfo: ...

    async def open(self, key: str) -> ObjectReader: ...


async def read_sidecars(
    store: CaptionSource, captions: Sequence[CaptionOption], where: str
) -> tuple[CaptionText, ...]:
    """Every sidecar of ``captions`` as WebVTT. Raises :class:`InvalidOptions` naming the
    entry (``options.captions[1].source …``) when an object is missing, too large or not
    a caption file; store outages propagate as they are."""
    texts = []
    for index, caption in enumerate(captions):
        entry = f"{where}[{index}].source"
        try:
            webvtt = to_webvtt(await _read_bounded(store, caption.source, entry))
        except CaptionFormatError as exc:
            raise _invalid(f"{entry}: {caption.source!r} {exc}") from None
        texts.append(
            CaptionText(
                language=caption.language, name=caption.name, default=caption.default,
                origin=CaptionOrigin.SIDECAR, webvtt=webvtt,
            )
        )  # fmt: skip
    return tuple(texts)


async def _read_bounded(store: CaptionSource, key: str, entry: str) -> bytes:
    try:
        size = (await store.stat(key)).size
        if size > MAX_CAPTION_BYTES:
            raise _invalid(
                f"{entry}: {key!r} is {size} bytes, more than the {MAX_CAPTION_BYTES} allowed"
            )
        reader = await store.open(key)
    except ObjectNotFound:
        raise _invalid(f"{entry}: object {key!r} not found in the source store") from None
    data = bytearray()
    try:
        async for chunk in reader.chunks():
            data += chunk
            if len(data) > MAX_CAPTION_BYTES:  # grew since the stat
                raise _invalid(f"{entry}: {key!r} is more than {MAX_CAPTION_BYTES} bytes")
    finally:
        await reader.aclose()
    return bytes(data)


# --- the packaged tracks ---------------------------------------------------------------------


@frozen(kw_only=True)
class PlannedCaption:
    """A caption track with its id (its directory ``text/{id}`` and packager input name)."""

    id: str
    text: CaptionText


def plan_captions(texts: Sequence[CaptionText]) -> tuple[PlannedCaption, ...]:
    """Ids, unique names and one default for ``texts`` (sidecars first, then embedded).

    The id is the lower-cased language and the track's position (``en_0``, ``und_2``).
    A name already taken gets `` 2``, `` 3`` … appended (HLS wants names unique in a group).
    The default is the first sidecar marked default, else the first embedded track the
    source marks default, else none.
    """
    sidecar_default = any(t.default and t.origin is CaptionOrigin.SIDECAR for t in texts)
    default_index = next(
        (
            index
            for index, text in enumerate(texts)
            if text.default and (text.origin is CaptionOrigin.SIDECAR or not sidecar_default)
        ),
        None,
    )
    names: set[str] = set()
    planned = []
    for index, text in enumerate(texts):
        name, suffix = text.name, 2
        while name in names:
            name, suffix = f"{text.name} {suffix}", suffix + 1
        names.add(name)
        fixed = CaptionText(
            language=text.language, name=name, default=index == default_index,
            origin=text.origin, webvtt=text.webvtt,
        )  # fmt: skip
        planned.append(PlannedCaption(id=f"{text.language.lower()}_{index}", text=fixed))
    return tuple(planned)
