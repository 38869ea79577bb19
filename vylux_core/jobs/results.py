"""The ``results`` JSON of every job type (worker spec §5) and its strict codec.

A workflow returns one of these values; a job store writes it as JSON and reads it back
by the job's type (:func:`read_stored_results`); whatever sends JSON out (a webhook, a job
view) turns it into JSON there (:func:`results_json`).

Field order in each class is the key order of the serialised JSON, which is what a
webhook body carries byte for byte; PostgreSQL's JSONB does not keep it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeAlias, overload

import attrs
import cattrs
from attrs import field, frozen
from cattrs.cols import homogenous_tuple_structure_factory, is_sequence
from cattrs.gen import make_dict_structure_fn, override

from vylux_core.jobs.job import JobType


class ResultsDecodeError(ValueError):
    """Stored or received ``results`` JSON that does not match its job type's shape."""


# --- images ------------------------------------------------------------------


@frozen
class ImageArtifact:
    """One uploaded image: the ``video:cover`` / ``video:preview`` result and artifact."""

    key: str
    format: str
    size: int


@frozen
class ThumbnailOutputResult:
    variant: str
    key: str
    format: str
    size: int


# `image:thumbnail` results are a bare JSON array, one entry per requested variant.
ThumbnailResult: TypeAlias = tuple[ThumbnailOutputResult, ...]


# --- video:transcode -----------------------------------------------------------


def _none_if_empty(ids: tuple[str, ...] | None) -> tuple[str, ...] | None:
    # `()` and `None` serialise alike (the key is omitted), so keep one spelling and
    # let values round-trip through JSON unchanged.
    return ids or None


@frozen(kw_only=True)
class StreamingInfo:
    protocol: Literal["hls"] = "hls"
    container: Literal["cmaf"] = "cmaf"
    encrypted: bool
    master_playlist: str
    # The DASH manifest over the same segments (absent from results written before it existed).
    dash_manifest: str | None = None
    default_audio_track_id: str | None = None


@frozen(kw_only=True)
class AudioTrack:
    id: str
    role: str
    language: str
    codec: str
    channels: int
    bitrate: int
    playlist: str
    init: str
    segment_count: int


@frozen(kw_only=True)
class VideoTrack:
    id: str
    codec: str
    width: int
    height: int
    bitrate: int
    playlist: str
    # The track's I-frame playlist (keyframe byte ranges in the same segments), listed
    # by EXT-X-I-FRAME-STREAM-INF; absent from results written before it existed.
    iframe_playlist: str | None = None
    init: str
    segment_count: int
    audio_track_ids: tuple[str, ...] | None = field(default=None, converter=_none_if_empty)


@frozen(kw_only=True)
class EncryptionInfo:
    scheme: str
    kid: str
    key_endpoint: str


@frozen(kw_only=True)
class DownloadArtifact:
    """An MP4 download (#19): ``kind`` is the requested name (``highest``, ``audio``),
    ``format`` the file extension (``mp4``, ``m4a``)."""

    kind: str
    key: str
    format: str
    size: int


@frozen(kw_only=True)
class StoryboardArtifact:
    """A storyboard (#19): the JPEG sprite, the WebVTT track whose cues point into it
    with ``#xywh=`` fragments and the Mux-style JSON tile list; ``tiles`` tiles of
    ``tile_width``×``tile_height``, one every ``interval_ms``."""

    sprite: str
    vtt: str
    json: str
    tiles: int
    interval_ms: int
    tile_width: int
    tile_height: int


@frozen(kw_only=True)
class CaptionTrack:
    """A subtitles track (#19): ``origin`` is ``sidecar`` (from ``options.captions``) or
    ``embedded`` (a text track of the source); ``playlist`` is its HLS media playlist of
    segmented WebVTT (the master's SUBTITLES group). The DASH manifest lists it as a text
    adaptation set of WebVTT in fMP4 beside it (``init.mp4``, ``seg_N.m4s``)."""

    id: str
    language: str
    name: str
    default: bool
    origin: str
    playlist: str
    segment_count: int


def _captions_or_none(captions: tuple[CaptionTrack, ...] | None) -> tuple[CaptionTrack, ...] | None:
    return captions or None


def _downloads_or_none(
    downloads: tuple[DownloadArtifact, ...] | None,
) -> tuple[DownloadArtifact, ...] | None:
    # As `_none_if_empty`: no downloads omits the key.
    return downloads or None


@frozen(kw_only=True)
class TranscodeResult:
    """The ``video:transcode`` result, also ``video:full``'s ``artifacts.transcode``.

    ``uploaded_keys`` may be left empty: listing thousands of segment keys in every
    result and callback makes both grow with the video's length.
    """

    streaming: StreamingInfo
    audio_tracks: tuple[AudioTrack, ...] = ()
    video_tracks: tuple[VideoTrack, ...]
    encryption: EncryptionInfo | None = None
    # Present only when asked for (`options.storyboard`).
    storyboard: StoryboardArtifact | None = None
    # Present only when downloads were requested and produced (`options.downloads`).
    downloads: tuple[DownloadArtifact, ...] | None = field(
        default=None, converter=_downloads_or_none
    )
    # Present only when the stream has subtitles (`options.captions` or embedded tracks).
    captions: tuple[CaptionTrack, ...] | None = field(default=None, converter=_captions_or_none)
    uploaded_keys: tuple[str, ...] = ()


# --- audio:transcode -------------------------------------------------------------


@frozen(kw_only=True)
class WaveformArtifact:
    """``waveform.json``: ``bins`` (min, max) peak pairs over ``duration`` seconds of the
    audio decoded at ``sample_rate`` Hz."""

    key: str
    bins: int
    sample_rate: int
    duration: float


@frozen(kw_only=True)
class AudioTranscodeResult:
    """The ``audio:transcode`` result: an audio-only HLS + DASH stream of
    ``audio_tracks`` (one per bitrate, highest first) and what was asked beside it."""

    streaming: StreamingInfo
    audio_tracks: tuple[AudioTrack, ...]
    encryption: EncryptionInfo | None = None
    # As in TranscodeResult: present only when downloads were requested.
    downloads: tuple[DownloadArtifact, ...] | None = field(
        default=None, converter=_downloads_or_none
    )
    # Present only when asked for (`options.waveform`).
    waveform: WaveformArtifact | None = None


# --- video:full ------------------------------------------------------------------


class FullStage(enum.StrEnum):
    """The stages of ``video:full``, in the order they run and serialise."""

    SOURCE = "source"
    COVER = "cover"
    PREVIEW = "preview"
    TRANSCODE = "transcode"
    # Runs beside the others from the start; last so the spec's four keep their order.
    STORYBOARD = "storyboard"


class StageStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    SKIPPED = "skipped"


class StageErrorCode(enum.StrEnum):
    DOWNLOAD_FAILED = "download_failed"
    EXTRACT_FAILED = "extract_failed"
    GENERATE_FAILED = "generate_failed"
    UPLOAD_FAILED = "upload_failed"
    PREPARE_FAILED = "prepare_failed"
    ENCRYPTION_SETUP_FAILED = "encryption_setup_failed"
    TRANSCODE_FAILED = "transcode_failed"


class SkipReason(enum.StrEnum):
    BLOCKED_BY_SOURCE_FAILURE = "blocked_by_source_failure"
    BLOCKED_BY_FAILED_DEPENDENCIES = "blocked_by_failed_dependencies"


class RetryStrategy(enum.StrEnum):
    NONE = "none"
    RETRY_JOB = "retry_job"
    RETRY_TASKS = "retry_tasks"


@frozen
class Stage:
    status: StageStatus
    error_code: StageErrorCode | None = None
    error: str | None = None
    reason: SkipReason | None = None
    retryable: bool = False


@frozen(kw_only=True)
class FullStages:
    source: Stage
    cover: Stage
    preview: Stage
    transcode: Stage
    # Absent when the job turned the stage off (`"storyboard": false`).
    storyboard: Stage | None = None

    def of(self, stage: FullStage) -> Stage | None:
        """The stage's state; ``None`` for a stage this run does not have."""
        return {
            FullStage.SOURCE: self.source,
            FullStage.COVER: self.cover,
            FullStage.PREVIEW: self.preview,
            FullStage.TRANSCODE: self.transcode,
            FullStage.STORYBOARD: self.storyboard,
        }[stage]


@frozen(kw_only=True)
class Artifacts:
    """What the succeeded stages produced; kept even when the job as a whole fails."""

    cover: ImageArtifact | None = None
    preview: ImageArtifact | None = None
    transcode: TranscodeResult | None = None
    storyboard: StoryboardArtifact | None = None


@frozen(kw_only=True)
class RetryPlan:
    """How ``POST /api/jobs/{id}/retry`` resumes a failed run (spec §4.5 table)."""

    allowed: bool
    strategy: RetryStrategy = RetryStrategy.NONE
    job_types: tuple[JobType, ...] = ()
    stages: tuple[FullStage, ...] = ()
    reason: str | None = None


NO_RETRY_PLAN = RetryPlan(allowed=False, strategy=RetryStrategy.NONE)

# The job type a retry runs for each stage (a failed source retries the whole job), and
# the stage whose options a retry of that job type takes from the ``video:full`` job.
STAGE_JOB_TYPES: Mapping[FullStage, JobType] = {
    FullStage.COVER: JobType.COVER,
    FullStage.PREVIEW: JobType.PREVIEW,
    FullStage.TRANSCODE: JobType.TRANSCODE,
    FullStage.STORYBOARD: JobType.STORYBOARD,
}
STAGE_OF_JOB_TYPE: Mapping[JobType, FullStage] = {
    job_type: stage for stage, job_type in STAGE_JOB_TYPES.items()
}


@frozen(kw_only=True)
class FullResult:
    stages: FullStages
    artifacts: Artifacts
    retry_plan: RetryPlan


Results: TypeAlias = (
    ThumbnailResult
    | ImageArtifact
    | TranscodeResult
    | FullResult
    | StoryboardArtifact
    | AudioTranscodeResult
)


@frozen
class UnreadableResults:
    """A stored ``results`` value that does not decode as its job type's results (a row
    written by hand or by a version with another shape).

    Stores hand it out instead of failing the read, so a job view still shows the JSON
    as stored and one such row cannot break a listing; whatever needs the typed value
    (a retry) refuses it.
    """

    stored: Any
    error: ResultsDecodeError = field(eq=False)


# What a job row holds once its results are read back.
StoredResults: TypeAlias = Results | UnreadableResults

_RESULT_TYPES: Mapping[JobType, Any] = {
    JobType.THUMBNAIL: ThumbnailResult,
    JobType.COVER: ImageArtifact,
    JobType.PREVIEW: ImageArtifact,
    JobType.TRANSCODE: TranscodeResult,
    JobType.FULL: FullResult,
    JobType.STORYBOARD: StoryboardArtifact,
    JobType.AUDIO_TRANSCODE: AudioTranscodeResult,
}


# --- codec ---------------------------------------------------------------------------


def make_results_converter() -> cattrs.Converter:
    """A converter that omits defaulted optional keys, keeps field order and decodes strictly.

    Strict means: unknown keys are rejected, objects must be JSON objects and arrays
    must be arrays, and scalars are never coerced (plain cattrs turns ``"12"`` into
    ``12``, ``"false"`` into ``True`` and ``"ab"`` into ``("a", "b")``).
    """
    converter = cattrs.Converter(
        forbid_extra_keys=True, unstruct_collection_overrides={tuple: list}
    )
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _strict_tuple_factory)
    converter.register_structure_hook_factory(attrs.has, _strict_object_factory)
    converter.register_unstructure_hook_factory(attrs.has, _object_unstructure_factory)
    return converter


# Defaulted fields that the JSON carries anyway; every other field at its default is
# omitted, which is exactly the spec's omission rules (§5.4, §5.5).
_ALWAYS_PRESENT: Mapping[type, frozenset[str]] = {
    StreamingInfo: frozenset({"protocol", "container"}),
    RetryPlan: frozenset({"strategy"}),
    TranscodeResult: frozenset({"uploaded_keys"}),
}


def _unstructure_uploaded_keys(keys: tuple[str, ...]) -> list[str] | None:
    # The contract writes `null` for "nothing uploaded" and never omits the key.
    return list(keys) or None


def _object_unstructure_factory(cls: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    # Hand-rolled rather than cattrs' generated function: that one moves omittable
    # keys behind the others, and the webhook body's key order must follow the spec.
    fields = attrs.fields(cls)
    always = _ALWAYS_PRESENT.get(cls, frozenset())
    special: dict[str, Callable[[Any], Any]] = {}
    if cls is TranscodeResult:
        special["uploaded_keys"] = _unstructure_uploaded_keys

    def unstructure(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attribute in fields:
            value = getattr(obj, attribute.name)
            if attribute.name not in always and value == attribute.default:
                continue
            out[attribute.name] = special.get(attribute.name, converter.unstructure)(value)
        return out

    return unstructure


def _strict_object_factory(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    overrides: dict[str, Any] = {}
    if cls is TranscodeResult:
        overrides["uploaded_keys"] = override(struct_hook=_uploaded_keys_hook(converter))
    fields = make_dict_structure_fn(cls, converter, **overrides)

    def structure(value: Any, kind: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected object, got {type(value).__name__}")
        return fields(value, kind)

    return structure


def _strict_str(value: Any, cls: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"expected string, got {type(value).__name__}")
    # The `str` hook also receives the StrEnums (they subclass str); their
    # constructor is what rejects values outside the enum.
    return value if cls is str else cls(value)


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected boolean, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: Any) -> int:
    # bool is an int subclass in Python but not a JSON number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected int, got {type(value).__name__}")
    return value


def _strict_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected number, got {type(value).__name__}")
    return float(value)


def _is_homogeneous_tuple(cls: Any) -> bool:
    return is_sequence(cls) and getattr(cls, "__origin__", None) is tuple


def _strict_tuple_factory(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    elements = homogenous_tuple_structure_factory(cls, converter)

    def structure(value: Any, kind: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected array, got {type(value).__name__}")
        return elements(value, kind)

    return structure


def _uploaded_keys_hook(converter: cattrs.Converter) -> Callable[[Any, Any], tuple[str, ...]]:
    def structure(value: Any, _: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        keys: tuple[str, ...] = converter.structure(value, tuple[str, ...])
        return keys

    return structure


RESULTS_CONVERTER = make_results_converter()


def unstructure_results(results: Results) -> Any:
    """Plain JSON-ready lists and dicts, with the spec's omission rules applied."""
    if isinstance(results, tuple):
        return RESULTS_CONVERTER.unstructure(results, unstructure_as=ThumbnailResult)
    return RESULTS_CONVERTER.unstructure(results)


@overload
def structure_results(
    job_type: Literal[JobType.THUMBNAIL, "image:thumbnail"], data: Any
) -> ThumbnailResult: ...
@overload
def structure_results(
    job_type: Literal[JobType.COVER, JobType.PREVIEW, "video:cover", "video:preview"],
    data: Any,
) -> ImageArtifact: ...
@overload
def structure_results(
    job_type: Literal[JobType.TRANSCODE, "video:transcode"], data: Any
) -> TranscodeResult: ...
@overload
def structure_results(job_type: Literal[JobType.FULL, "video:full"], data: Any) -> FullResult: ...
@overload
def structure_results(
    job_type: Literal[JobType.STORYBOARD, "video:storyboard"], data: Any
) -> StoryboardArtifact: ...
@overload
def structure_results(
    job_type: Literal[JobType.AUDIO_TRANSCODE, "audio:transcode"], data: Any
) -> AudioTranscodeResult: ...
@overload
def structure_results(job_type: JobType | str, data: Any) -> Results: ...
def structure_results(job_type: JobType | str, data: Any) -> Results:
    """Decode ``data`` as ``job_type``'s results; raises :class:`ResultsDecodeError`."""
    try:
        target = _RESULT_TYPES[JobType(job_type)]
    except ValueError:
        raise ResultsDecodeError(f"unknown job type: {job_type!r}") from None
    decoded: Results = _structure(data, target, f"{job_type} results")
    return decoded


def read_stored_results(job_type: JobType, data: Any) -> StoredResults | None:
    """A stored row's ``results`` JSON as its job type's value (what the stores read)."""
    if data is None:
        return None
    try:
        return structure_results(job_type, data)
    except ResultsDecodeError as error:
        return UnreadableResults(data, error)


def results_json(results: StoredResults | None) -> Any:
    """The JSON a row, a webhook or a job view carries (``None`` for no results, an
    unreadable value as it was stored)."""
    if results is None:
        return None
    if isinstance(results, UnreadableResults):
        return results.stored
    return unstructure_results(results)


def structure_retry_plan(data: Any) -> RetryPlan:
    """Decode a ``retry_plan`` object on its own (what the CLI reads from a job view);
    raises :class:`ResultsDecodeError`."""
    plan: RetryPlan = _structure(data, RetryPlan, "retry plan")
    return plan


def _structure(data: Any, target: Any, what: str) -> Any:
    try:
        return RESULTS_CONVERTER.structure(data, target)
    except cattrs.BaseValidationError as exc:
        details = "; ".join(cattrs.transform_error(exc))
        raise ResultsDecodeError(f"invalid {what}: {details}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ResultsDecodeError(f"invalid {what}: {exc}") from exc
