"""Strict decoding of job ``options`` per job type, and their canonical JSON form."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from vylux_core.errors import InvalidOptions, UnsupportedFormat
from vylux_core.images.options import MAX_DIMENSION, parse_format
from vylux_core.images.result_budget import ResultBudget
from vylux_core.jobs.job import JobType
from vylux_core.media.audio_renditions import AudioDownloadKind
from vylux_core.media.captions import CaptionOption, canonical_captions, decode_captions
from vylux_core.media.downloads import DownloadKind
from vylux_core.media.ladder import DEFAULT_MAX_RESOLUTION, MAX_RESOLUTIONS
from vylux_core.media.waveform import DEFAULT_WAVEFORM_BINS, MAX_WAVEFORM_BINS, MIN_WAVEFORM_BINS

MAX_THUMBNAIL_OUTPUTS = 16
MAX_PREVIEW_SECONDS = 30.0
MAX_PREVIEW_WIDTH = 1920
MAX_PREVIEW_FPS = 60
MAX_TIMESTAMP_SECONDS = 7 * 24 * 3600.0
VARIANT_PATTERN = re.compile(r"[a-z0-9_-]{1,32}")
PREVIEW_FORMATS = ("webp", "gif")


@frozen(kw_only=True)
class ThumbnailOutput:
    variant: str
    format: str
    width: int | None = None
    height: int | None = None


DEFAULT_THUMBNAIL_OUTPUT = ThumbnailOutput(variant="thumb", width=300, format="webp")


@frozen(kw_only=True)
class ThumbnailOptions:
    """Empty ``outputs`` means the worker's default of one 300 px WebP named ``thumb``."""

    outputs: tuple[ThumbnailOutput, ...] = ()

    def effective_outputs(self) -> tuple[ThumbnailOutput, ...]:
        return self.outputs or (DEFAULT_THUMBNAIL_OUTPUT,)


@frozen(kw_only=True)
class CoverOptions:
    timestamp_sec: float | None = None

    def effective_timestamp(self) -> float:
        return 1.0 if self.timestamp_sec is None else self.timestamp_sec


@frozen(kw_only=True)
class PreviewOptions:
    start_sec: float | None = None
    duration: float | None = None
    width: int | None = None
    fps: int | None = None
    format: str | None = None

    def effective(self) -> EffectivePreview:
        # Both job types start at 2 s: the first frames are often black (D9).
        return EffectivePreview(
            start_sec=2.0 if self.start_sec is None else self.start_sec,
            duration=3.0 if self.duration is None else self.duration,
            width=480 if self.width is None else self.width,
            fps=10 if self.fps is None else self.fps,
            format=self.format or "webp",
        )


@frozen(kw_only=True)
class EffectivePreview:
    start_sec: float
    duration: float
    width: int
    fps: int
    format: str


@frozen(kw_only=True)
class TranscodeOptions:
    encrypt: bool = False
    # The highest ladder rung: "1080p" (default), "1440p" or "2160p".
    max_resolution: str = DEFAULT_MAX_RESOLUTION
    # MP4 downloads beside the stream, in DownloadKind order (so the order a client lists
    # them in does not change the fingerprint); empty: none.
    downloads: tuple[DownloadKind, ...] = ()
    # A storyboard (sprite + WebVTT + JSON) beside the stream; video:transcode only.
    storyboard: bool = False
    # Sidecar caption files in the source store (vylux_core.media.captions), in the given order.
    captions: tuple[CaptionOption, ...] = ()


@frozen(kw_only=True)
class StoryboardOptions:
    """``video:storyboard``'s options, and video:full's ``storyboard`` stage: none yet
    beyond whether the stage runs (``"storyboard": false`` in video:full)."""

    enabled: bool = True


@frozen(kw_only=True)
class FullOptions:
    cover: CoverOptions = CoverOptions()
    preview: PreviewOptions = PreviewOptions()
    transcode: TranscodeOptions = TranscodeOptions()
    storyboard: StoryboardOptions = StoryboardOptions()


@frozen(kw_only=True)
class WaveformOptions:
    bins: int = DEFAULT_WAVEFORM_BINS


@frozen(kw_only=True)
class AudioTranscodeOptions:
    encrypt: bool = False
    # In AudioDownloadKind order, as the video downloads; empty: none.
    downloads: tuple[AudioDownloadKind, ...] = ()
    # None: no waveform.json.
    waveform: WaveformOptions | None = None


JobOptions = (
    ThumbnailOptions
    | CoverOptions
    | PreviewOptions
    | TranscodeOptions
    | FullOptions
    | StoryboardOptions
    | AudioTranscodeOptions
)


def decode_options(job_type: JobType, raw: Any) -> JobOptions:
    """Decode ``raw`` (parsed JSON; ``None`` means ``{}``) strictly for ``job_type``.

    Unknown keys at any level, wrong JSON types and out-of-range values raise
    :class:`InvalidOptions` whose message starts with ``invalid options:``.
    """
    obj = _object({} if raw is None else raw, "options")
    match job_type:
        case JobType.THUMBNAIL:
            return _thumbnail(obj)
        case JobType.COVER:
            return _cover(obj, "options")
        case JobType.PREVIEW:
            return _preview(obj, "options")
        case JobType.TRANSCODE:
            return _transcode(obj, "options", allow_storyboard=True)
        case JobType.FULL:
            return _full(obj)
        case JobType.STORYBOARD:
            return _storyboard(obj, "options")
        case JobType.AUDIO_TRANSCODE:
            return _audio_transcode(obj)


def canonical_options(options: JobOptions) -> dict[str, Any]:
    """Absent values are dropped, and so are stages of ``video:full`` left empty."""
    match options:
        case ThumbnailOptions(outputs=outputs):
            if not outputs:
                return {}
            return {"outputs": [_drop_none(_thumbnail_output_fields(o)) for o in outputs]}
        case CoverOptions(timestamp_sec=ts):
            return _drop_none({"timestamp_sec": ts})
        case PreviewOptions():
            return _drop_none(
                {
                    "start_sec": options.start_sec,
                    "duration": options.duration,
                    "width": options.width,
                    "fps": options.fps,
                    "format": options.format,
                }
            )
        case TranscodeOptions(encrypt=encrypt, max_resolution=max_resolution):
            # Defaults are dropped, so `{}` and `{"max_resolution": "1080p"}` share a fingerprint.
            fields: dict[str, Any] = {"encrypt": True} if encrypt else {}
            if max_resolution != DEFAULT_MAX_RESOLUTION:
                fields["max_resolution"] = max_resolution
            if options.downloads:
                fields["downloads"] = [kind.value for kind in options.downloads]
            if options.storyboard:
                fields["storyboard"] = True
            if options.captions:
                fields["captions"] = canonical_captions(options.captions)
            return fields
        case FullOptions():
            stages: dict[str, Any] = {
                "cover": canonical_options(options.cover),
                "preview": canonical_options(options.preview),
                "transcode": canonical_options(options.transcode),
            }
            kept = {name: value for name, value in stages.items() if value}
            # On by default: only turning the stage off is different work.
            if not options.storyboard.enabled:
                kept["storyboard"] = False
            return kept
        case StoryboardOptions():
            return {}
        case AudioTranscodeOptions(encrypt=encrypt, downloads=downloads, waveform=waveform):
            # `{"waveform": {}}` and `{"waveform": {"bins": 1000}}` share a fingerprint.
            audio: dict[str, Any] = {"encrypt": True} if encrypt else {}
            if downloads:
                audio["downloads"] = [kind.value for kind in downloads]
            if waveform is not None:
                audio["waveform"] = {"bins": waveform.bins}
            return audio


def _thumbnail_output_fields(output: ThumbnailOutput) -> dict[str, Any]:
    return {
        "variant": output.variant,
        "width": output.width,
        "height": output.height,
        "format": output.format,
    }


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain_number(value) for key, value in fields.items() if value is not None}


def _plain_number(value: Any) -> Any:
    # Stored options read back as `2`, not `2.0`, like the JSON the client sent.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sidecar_captions(options: JobOptions) -> tuple[tuple[CaptionOption, ...], str]:
    """The caption entries of ``options`` and where they sit (``options.captions``), for
    messages that name an entry."""
    match options:
        case TranscodeOptions(captions=captions):
            return captions, "options.captions"
        case FullOptions(transcode=TranscodeOptions(captions=captions)):
            return captions, "options.transcode.captions"
        case _:
            return (), "options.captions"


def check_result_budget(options: JobOptions, budget: ResultBudget) -> None:
    """Refuse thumbnail outputs whose requested box alone exceeds ``budget``.

    Separate from :func:`decode_options` because the budget is configuration: the
    service checks it at submission, and the image processor checks every rendition
    against the source again when the job runs.
    """
    if not isinstance(options, ThumbnailOptions):
        return
    for index, output in enumerate(options.outputs):
        excess = budget.box_excess(output.width, output.height)
        if excess is not None:
            raise _invalid(f"options.outputs[{index}]: {excess}")


# --- per-type decoders -----------------------------------------------------------------


def _thumbnail(obj: Mapping[str, Any]) -> ThumbnailOptions:
    _only_keys(obj, "options", {"outputs"})
    raw_outputs = obj.get("outputs")
    if raw_outputs is None:
        return ThumbnailOptions()
    if not isinstance(raw_outputs, list):
        raise _invalid("options.outputs must be an array")
    if len(raw_outputs) > MAX_THUMBNAIL_OUTPUTS:
        raise _invalid(f"options.outputs may hold at most {MAX_THUMBNAIL_OUTPUTS} items")
    outputs = tuple(
        _thumbnail_output(item, f"options.outputs[{index}]")
        for index, item in enumerate(raw_outputs)
    )
    variants = [output.variant for output in outputs]
    if len(set(variants)) != len(variants):
        # Two outputs with one variant name would overwrite the same object key.
        raise _invalid("options.outputs variant names must be unique")
    return ThumbnailOptions(outputs=outputs)


def _thumbnail_output(raw: Any, where: str) -> ThumbnailOutput:
    obj = _object(raw, where)
    _only_keys(obj, where, {"variant", "width", "height", "format"})
    variant = _string(obj, "variant", where)
    if variant is None:
        raise _invalid(f"{where}.variant is required")
    if VARIANT_PATTERN.fullmatch(variant) is None:
        raise _invalid(f"{where}.variant must match [a-z0-9_-]{{1,32}}")
    format_text = _string(obj, "format", where)
    try:
        image_format = parse_format(format_text or "webp")
    except UnsupportedFormat:
        raise _invalid(f"{where}.format must be one of webp, avif, jpg, png, gif") from None
    return ThumbnailOutput(
        variant=variant,
        format=image_format.extension,
        width=_int(obj, "width", where, low=1, high=MAX_DIMENSION),
        height=_int(obj, "height", where, low=1, high=MAX_DIMENSION),
    )


def _cover(obj: Mapping[str, Any], where: str) -> CoverOptions:
    _only_keys(obj, where, {"timestamp_sec"})
    return CoverOptions(
        timestamp_sec=_float(obj, "timestamp_sec", where, low=0.0, high=MAX_TIMESTAMP_SECONDS)
    )


def _preview(obj: Mapping[str, Any], where: str) -> PreviewOptions:
    _only_keys(obj, where, {"start_sec", "duration", "width", "fps", "format"})
    preview_format = _string(obj, "format", where)
    if preview_format is not None and preview_format not in PREVIEW_FORMATS:
        raise _invalid(f"{where}.format must be one of webp, gif")
    duration = _float(obj, "duration", where, low=0.0, high=MAX_PREVIEW_SECONDS)
    if duration is not None and duration <= 0:
        raise _invalid(f"{where}.duration must be greater than 0")
    return PreviewOptions(
        start_sec=_float(obj, "start_sec", where, low=0.0, high=MAX_TIMESTAMP_SECONDS),
        duration=duration,
        width=_int(obj, "width", where, low=1, high=MAX_PREVIEW_WIDTH),
        fps=_int(obj, "fps", where, low=1, high=MAX_PREVIEW_FPS),
        format=preview_format,
    )


def _transcode(
    obj: Mapping[str, Any], where: str, *, allow_storyboard: bool = False
) -> TranscodeOptions:
    keys = {"encrypt", "max_resolution", "downloads", "captions"}
    _only_keys(obj, where, keys | {"storyboard"} if allow_storyboard else keys)
    encrypt = obj.get("encrypt")
    if encrypt is not None and not isinstance(encrypt, bool):
        raise _invalid(f"{where}.encrypt must be a boolean")
    storyboard = obj.get("storyboard")
    if storyboard is not None and not isinstance(storyboard, bool):
        raise _invalid(f"{where}.storyboard must be a boolean")
    max_resolution = _string(obj, "max_resolution", where)
    if max_resolution is not None and max_resolution not in MAX_RESOLUTIONS:
        raise _invalid(f"{where}.max_resolution must be one of {', '.join(MAX_RESOLUTIONS)}")
    downloads = _downloads(obj.get("downloads"), f"{where}.downloads")
    if downloads and encrypt:
        # A clear MP4 beside an encrypted stream would hand out what the encryption guards.
        raise _invalid(f"{where}.downloads cannot be combined with encrypt")
    return TranscodeOptions(
        encrypt=bool(encrypt),
        max_resolution=max_resolution or DEFAULT_MAX_RESOLUTION,
        downloads=downloads,
        storyboard=bool(storyboard),
        captions=decode_captions(obj.get("captions"), f"{where}.captions"),
    )


def _downloads(raw: Any, where: str) -> tuple[DownloadKind, ...]:
    names = _listed_names(raw, where, [kind.value for kind in DownloadKind])
    return tuple(kind for kind in DownloadKind if kind.value in names)


def _listed_names(raw: Any, where: str, kinds: list[str]) -> list[str]:
    """``raw`` as a list of distinct names out of ``kinds``; absent is empty."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _invalid(f"{where} must be an array of strings")
    unknown = [item for item in raw if item not in kinds]
    if unknown:
        raise _invalid(f"{where}: unknown download {unknown[0]!r} (one of {', '.join(kinds)})")
    if len(set(raw)) != len(raw):
        raise _invalid(f"{where} lists a download twice")
    return raw


def _audio_transcode(obj: Mapping[str, Any]) -> AudioTranscodeOptions:
    _only_keys(obj, "options", {"encrypt", "downloads", "waveform"})
    encrypt = obj.get("encrypt")
    if encrypt is not None and not isinstance(encrypt, bool):
        raise _invalid("options.encrypt must be a boolean")
    names = _listed_names(
        obj.get("downloads"), "options.downloads", [kind.value for kind in AudioDownloadKind]
    )
    if names and encrypt:
        # As for video: a clear file beside an encrypted stream would hand out what the
        # encryption guards.
        raise _invalid("options.downloads cannot be combined with encrypt")
    waveform = None
    if obj.get("waveform") is not None:
        raw = _object(obj["waveform"], "options.waveform")
        _only_keys(raw, "options.waveform", {"bins"})
        bins = _int(raw, "bins", "options.waveform", low=MIN_WAVEFORM_BINS, high=MAX_WAVEFORM_BINS)
        waveform = WaveformOptions(bins=DEFAULT_WAVEFORM_BINS if bins is None else bins)
    return AudioTranscodeOptions(
        encrypt=bool(encrypt),
        downloads=tuple(kind for kind in AudioDownloadKind if kind.value in names),
        waveform=waveform,
    )


def _storyboard(obj: Mapping[str, Any], where: str) -> StoryboardOptions:
    _only_keys(obj, where, set())
    return StoryboardOptions()


def _storyboard_stage(raw: Any) -> StoryboardOptions:
    """video:full's ``storyboard``: ``false`` turns the stage off; ``true``, an object
    (the stage's options, as for the other stages) or absence keep it on."""
    if isinstance(raw, bool):
        return StoryboardOptions(enabled=raw)
    if raw is None:
        return StoryboardOptions()
    if not isinstance(raw, Mapping):
        raise _invalid("options.storyboard must be a boolean or an object")
    return _storyboard(raw, "options.storyboard")


def _full(obj: Mapping[str, Any]) -> FullOptions:
    # Flat keys such as "timestamp_sec" are unknown fields: options belong to a stage.
    _only_keys(obj, "options", {"cover", "preview", "transcode", "storyboard"})

    def stage(name: str) -> Mapping[str, Any]:
        value = obj.get(name)
        return {} if value is None else _object(value, f"options.{name}")

    return FullOptions(
        cover=_cover(stage("cover"), "options.cover"),
        preview=_preview(stage("preview"), "options.preview"),
        transcode=_transcode(stage("transcode"), "options.transcode"),
        storyboard=_storyboard_stage(obj.get("storyboard")),
    )


# --- JSON field readers ------------------------------------------------------------------


def _invalid(detail: str) -> InvalidOptions:
    return InvalidOptions(f"invalid options: {detail}")


def _object(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _invalid(f"{where} must be an object")
    return raw


def _only_keys(obj: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    for key in obj:
        if key not in allowed:
            raise _invalid(f'unknown field "{key}" in {where}')


def _string(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{where}.{key} must be a string")
    return value


def _int(obj: Mapping[str, Any], key: str, where: str, *, low: int, high: int) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{where}.{key} must be an integer")
    if not low <= value <= high:
        raise _invalid(f"{where}.{key} must be between {low} and {high}")
    return value


def _float(
    obj: Mapping[str, Any], key: str, where: str, *, low: float, high: float
) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"{where}.{key} must be a number")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer too big for a double
        number = math.inf
    if not math.isfinite(number) or not low <= number <= high:
        raise _invalid(f"{where}.{key} must be between {low:g} and {high:g}")
    return number
