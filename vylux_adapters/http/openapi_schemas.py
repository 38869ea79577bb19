"""Schemas of the OpenAPI document: request bodies, results and error bodies."""

from __future__ import annotations

from typing import Any

from vylux_core.images.options import FORMAT_ALIASES, MAX_DIMENSION, REFERENCE_FORMATS, ImageFormat
from vylux_core.jobs.job import CallbackStatus, JobStatus
from vylux_core.jobs.options import (
    MAX_PREVIEW_FPS,
    MAX_PREVIEW_SECONDS,
    MAX_PREVIEW_WIDTH,
    MAX_THUMBNAIL_OUTPUTS,
    MAX_TIMESTAMP_SECONDS,
    PREVIEW_FORMATS,
    VARIANT_PATTERN,
)
from vylux_core.jobs.results import RetryStrategy
from vylux_core.media.audio_renditions import AudioDownloadKind
from vylux_core.media.captions import MAX_CAPTION_BYTES, MAX_CAPTION_NAME, MAX_CAPTIONS
from vylux_core.media.downloads import DownloadKind
from vylux_core.media.ladder import DEFAULT_MAX_RESOLUTION, MAX_RESOLUTIONS
from vylux_core.media.storyboard import MAX_TILES, TILE_WIDTH
from vylux_core.media.waveform import DEFAULT_WAVEFORM_BINS, MAX_WAVEFORM_BINS, MIN_WAVEFORM_BINS
from vylux_core.security.clearkey import LICENSE_SESSION_TYPE, MAX_KIDS, SESSION_TYPES

JSON = dict[str, Any]

HASH = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"}


def _object(properties: JSON, required: tuple[str, ...] = ()) -> JSON:
    schema: JSON = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _request(properties: JSON, required: tuple[str, ...] = ()) -> JSON:
    """An object of a request body: the decoder reads a ``null`` as an absent field,
    so each optional one admits null."""
    nullable = {
        name: schema if name in required else _or_null(schema)
        for name, schema in properties.items()
    }
    return _object(nullable, required)


def _or_null(schema: JSON) -> JSON:
    if isinstance(schema.get("type"), str):
        widened = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            widened["enum"] = [*schema["enum"], None]
        return widened
    if "oneOf" in schema:
        alternatives = schema["oneOf"]
        if {"type": "null"} in alternatives:
            return schema
        return {**schema, "oneOf": [*alternatives, {"type": "null"}]}
    return {"oneOf": [schema, {"type": "null"}]}


def any_case(*words: str) -> str:
    """A pattern group matching any of ``words`` in any ASCII case (JSON Schema
    patterns have no flags)."""

    def letters(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)

    return "(?:" + "|".join(map(letters, words)) + ")"


def _number(low: float, high: float, *, integer: bool = False, exclusive_low: bool = False) -> JSON:
    schema: JSON = {"type": "integer" if integer else "number", "maximum": _whole(high)}
    schema["exclusiveMinimum" if exclusive_low else "minimum"] = _whole(low)
    return schema


def _whole(value: float) -> float:
    """``value`` as an int when it is whole, so the document reads ``30``, not ``30.0``."""
    return int(value) if float(value).is_integer() else value


def _thumbnail_formats() -> list[tuple[str, list[str]]]:
    """The formats a thumbnail output takes, in ImageFormat order, with their aliases."""
    return [
        (image_format.value, [a for a, target in FORMAT_ALIASES.items() if target is image_format])
        for image_format in ImageFormat
        if image_format in REFERENCE_FORMATS
    ]


def _format_names(name: str, aliases: list[str]) -> str:
    return f"{name} (or {', '.join(aliases)})" if aliases else name


_THUMBNAIL_FORMATS = _thumbnail_formats()
_THUMBNAIL_FORMAT_NAMES = [
    name for value, aliases in _THUMBNAIL_FORMATS for name in (value, *aliases)
]
_THUMBNAIL_FORMAT_TEXT = [_format_names(value, aliases) for value, aliases in _THUMBNAIL_FORMATS]
_THUMBNAIL_FORMAT_LIST = f"{', '.join(_THUMBNAIL_FORMAT_TEXT[:-1])} or {_THUMBNAIL_FORMAT_TEXT[-1]}"


THUMBNAIL_OPTIONS = _request(
    {
        "outputs": {
            "type": "array",
            "maxItems": MAX_THUMBNAIL_OUTPUTS,
            "description": "Unique variant names. Empty or absent: one 300 px WebP, `thumb`.",
            "items": _request(
                {
                    "variant": {"type": "string", "pattern": f"^{VARIANT_PATTERN.pattern}$"},
                    "width": _number(1, MAX_DIMENSION, integer=True),
                    "height": _number(1, MAX_DIMENSION, integer=True),
                    "format": {
                        "type": "string",
                        "description": (
                            f"{_THUMBNAIL_FORMAT_LIST}, in any case and with an optional "
                            f"leading `.`; empty means {ImageFormat.WEBP.value}."
                        ),
                        "pattern": (r"^(?:\.?" + any_case(*_THUMBNAIL_FORMAT_NAMES) + ")?$"),
                        "default": ImageFormat.WEBP.value,
                    },
                },
                ("variant",),
            ),
        }
    }
)
COVER_OPTIONS = _request({"timestamp_sec": _number(0, MAX_TIMESTAMP_SECONDS)})
PREVIEW_OPTIONS = _request(
    {
        "start_sec": _number(0, MAX_TIMESTAMP_SECONDS),
        "duration": _number(0, MAX_PREVIEW_SECONDS, exclusive_low=True),
        "width": _number(1, MAX_PREVIEW_WIDTH, integer=True),
        "fps": _number(1, MAX_PREVIEW_FPS, integer=True),
        "format": {"type": "string", "enum": list(PREVIEW_FORMATS), "default": PREVIEW_FORMATS[0]},
    }
)
TRANSCODE_OPTIONS = _request(
    {
        "encrypt": {"type": "boolean", "default": False},
        "max_resolution": {
            "type": "string",
            "enum": list(MAX_RESOLUTIONS),
            "default": DEFAULT_MAX_RESOLUTION,
            "description": "Highest ladder rung; smaller sources are never upscaled.",
        },
        "downloads": {
            "type": "array",
            "items": {"type": "string", "enum": [kind.value for kind in DownloadKind]},
            "uniqueItems": True,
            "description": (
                "MP4 downloads beside the stream, remuxed from the encodes: `highest` "
                "(downloads/highest.mp4, the top H.264 rung with AAC) and `audio` "
                "(downloads/audio.m4a). Not allowed with `encrypt`."
            ),
        },
        "storyboard": {
            "type": "boolean",
            "default": False,
            "description": (
                "video:transcode only (refused inside video:full's `transcode`): a trick-play "
                f"storyboard, storyboard.jpg (at most {MAX_TILES} tiles, {TILE_WIDTH} px wide), "
                "storyboard.vtt "
                "(cues with #xywh= fragments) and storyboard.json (Mux's tile list)."
            ),
        },
        "captions": {
            "type": "array",
            "maxItems": MAX_CAPTIONS,
            "items": _request(
                {
                    "source": {
                        "type": "string",
                        "minLength": 1,
                        "description": (
                            f"Key of a WebVTT or SRT file (UTF-8, at most {MAX_CAPTION_BYTES} "
                            "bytes) in the source bucket; read and checked at submission."
                        ),
                    },
                    "language": {"type": "string", "description": "A BCP 47 language tag."},
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_CAPTION_NAME,
                        "pattern": '^[^",\\r\\n]+$',
                        "description": "What players list; unique. Default: the language.",
                    },
                    "default": {
                        "type": "boolean",
                        "default": False,
                        "description": "The track players turn on first; at most one.",
                    },
                },
                ("source", "language"),
            ),
            "description": (
                "Sidecar subtitles: a SUBTITLES group (segmented WebVTT) in the HLS master "
                "and text adaptation sets (WebVTT in fMP4) in the DASH manifest, never "
                "encrypted. Text tracks of the source are added without an option."
            ),
        },
    }
)
STORYBOARD_OPTIONS = {
    **_request({}),
    "description": "None yet: the storyboard's layout follows the video's duration and size.",
}
FULL_OPTIONS = _request(
    {
        "cover": {"$ref": "#/components/schemas/CoverOptions"},
        "preview": {"$ref": "#/components/schemas/PreviewOptions"},
        "transcode": {"$ref": "#/components/schemas/TranscodeOptions"},
        "storyboard": {
            "oneOf": [{"type": "boolean"}, {"$ref": "#/components/schemas/StoryboardOptions"}],
            "default": True,
            "description": (
                "The storyboard stage (storyboard.jpg, .vtt, .json), on by default: `false` "
                "turns it off; `true` or an object keep it on."
            ),
        },
    }
)
AUDIO_TRANSCODE_OPTIONS = _request(
    {
        "encrypt": {
            "type": "boolean",
            "default": False,
            "description": "Raw-key CBCS, keys from /api/key and the ClearKey licence, as video.",
        },
        "downloads": {
            "type": "array",
            "items": {"type": "string", "enum": [kind.value for kind in AudioDownloadKind]},
            "uniqueItems": True,
            "description": (
                "Downloads beside the stream, under audio-only/downloads/: `mp3` (VBR ~190 "
                "kbit/s), `m4a` (the 128k AAC rendition, remuxed) and `flac` (lossless). "
                "Not allowed with `encrypt`."
            ),
        },
        "waveform": _request(
            {
                "bins": {
                    **_number(MIN_WAVEFORM_BINS, MAX_WAVEFORM_BINS, integer=True),
                    "default": DEFAULT_WAVEFORM_BINS,
                }
            },
        )
        | {
            "description": (
                "audio-only/waveform.json: `bins` (min, max) peak pairs in [-1, 1], with the "
                "duration and the sample rate they were computed at."
            )
        },
    }
)

_OPTIONS_BY_TYPE = {
    "image:thumbnail": "ThumbnailOptions",
    "video:cover": "CoverOptions",
    "video:preview": "PreviewOptions",
    "video:transcode": "TranscodeOptions",
    "video:full": "FullOptions",
    "video:storyboard": "StoryboardOptions",
    "audio:transcode": "AudioTranscodeOptions",
}


def _job_request(job_type: str, options_schema: str) -> JSON:
    return _request(
        {
            "type": {"const": job_type},
            "hash": HASH,
            "source": {
                "type": "string",
                "minLength": 1,
                "description": "Key in the source bucket.",
            },
            "options": {
                "oneOf": [{"$ref": f"#/components/schemas/{options_schema}"}, {"type": "null"}]
            },
            "callback_url": {
                "type": "string",
                "description": "Empty, or an http(s) URL whose host is a public address.",
            },
        },
        ("type", "hash", "source"),
    )


JOB_REQUEST: JSON = {
    "description": (
        "Keys are case-sensitive; unknown fields, duplicate keys and trailing data are "
        "refused. A `null` field counts as absent."
    ),
    "oneOf": [
        {"$ref": f"#/components/schemas/JobRequest_{job_type.replace(':', '_')}"}
        for job_type in _OPTIONS_BY_TYPE
    ],
    "discriminator": {
        "propertyName": "type",
        "mapping": {
            job_type: f"#/components/schemas/JobRequest_{job_type.replace(':', '_')}"
            for job_type in _OPTIONS_BY_TYPE
        },
    },
}

JOB_STATUS = {
    "type": "string",
    "enum": [status.value for status in JobStatus],
}
JOB_TYPE = {"type": "string", "enum": list(_OPTIONS_BY_TYPE)}
ERROR = _object({"message": {"type": "string"}}, ("message",))

SUBMISSION = _object(
    {
        "job_id": {"type": ["string", "null"], "description": "null for a completed duplicate"},
        "hash": HASH,
        "status": JOB_STATUS,
        "results": {"description": "Only for a completed duplicate: its stored results."},
    },
    ("job_id", "hash", "status"),
)
JOB = _object(
    {
        "job_id": {"type": "string"},
        "type": JOB_TYPE,
        "hash": HASH,
        "status": JOB_STATUS,
        "callback_status": {"type": "string", "enum": [status.value for status in CallbackStatus]},
        "progress": _number(0, 100, integer=True),
        "retry_of_job_id": {"type": "string"},
        "error": {"type": "string"},
        "results": {"description": "Per job type, see the worker contract."},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    ("job_id", "type", "hash", "status", "callback_status", "progress", "created_at", "updated_at"),
)
JOB_PAGE = _object(
    {
        "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        },
    },
    ("jobs", "next_cursor"),
)
RETRY = _object(
    {
        "source_job_id": {"type": "string"},
        # A retry answer always names what it did; "none" is only a retry plan's.
        "strategy": {
            "type": "string",
            "enum": [
                strategy.value for strategy in RetryStrategy if strategy is not RetryStrategy.NONE
            ],
        },
        "jobs": {
            "type": "array",
            "items": _object(
                {
                    "job_id": {"type": "string"},
                    "type": JOB_TYPE,
                    "status": JOB_STATUS,
                    "retry_of_job_id": {"type": ["string", "null"]},
                },
                ("job_id", "type", "status", "retry_of_job_id"),
            ),
        },
    },
    ("source_job_id", "strategy", "jobs"),
)


_B64URL = {"type": "string", "pattern": "^[A-Za-z0-9_-]+={0,2}$"}
CLEARKEY_REQUEST = _object(
    {
        "kids": {
            "type": "array",
            "items": {**_B64URL, "description": "Key id (16 bytes), base64url."},
            "minItems": 1,
            "maxItems": MAX_KIDS,
        },
        "type": {"type": "string", "enum": list(SESSION_TYPES)},
    },
    ("kids",),
)
CLEARKEY_LICENSE = _object(
    {
        "keys": {
            "type": "array",
            "items": _object(
                {
                    "kty": {"const": "oct"},
                    "k": {**_B64URL, "description": "Content key, base64url without padding."},
                    "kid": {**_B64URL, "description": "Key id, base64url without padding."},
                },
                ("kty", "k", "kid"),
            ),
        },
        "type": {"const": LICENSE_SESSION_TYPE},
    },
    ("keys", "type"),
)

_COUNT = {"type": "integer", "minimum": 0}
IMGPROXY_INFO = _object(
    {
        "width": {**_COUNT, "description": "As displayed (EXIF orientation applied)."},
        "height": {**_COUNT, "description": "As displayed (EXIF orientation applied)."},
        "format": {"type": "string", "description": "`jpeg`, `png`, `webp`, `gif`, `heif`, …"},
        "bytes": {**_COUNT, "description": "The source's size in bytes."},
        "frames": {"type": "integer", "minimum": 1},
        "delays": {
            "type": "array",
            "items": _COUNT,
            "description": "Per frame, in milliseconds; empty for a still image.",
        },
        "orientation": {"type": "integer", "minimum": 1, "maximum": 8},
        "color_space": {"type": "string", "description": "libvips' name: `srgb`, `b-w`, …"},
        "alpha": {"type": "boolean"},
        "blurhash": {"type": "string", "description": "BlurHash, 4×3 components."},
        "thumbhash": {"type": "string", "description": "ThumbHash, base64."},
        "dominant_color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
    },
    (
        "width", "height", "format", "bytes", "frames", "delays", "orientation",
        "color_space", "alpha", "blurhash", "thumbhash", "dominant_color",
    ),
)  # fmt: skip


def schemas() -> JSON:
    result: JSON = {
        "Error": ERROR,
        "ClearKeyRequest": CLEARKEY_REQUEST,
        "ClearKeyLicense": CLEARKEY_LICENSE,
        "ThumbnailOptions": THUMBNAIL_OPTIONS,
        "CoverOptions": COVER_OPTIONS,
        "PreviewOptions": PREVIEW_OPTIONS,
        "TranscodeOptions": TRANSCODE_OPTIONS,
        "FullOptions": FULL_OPTIONS,
        "StoryboardOptions": STORYBOARD_OPTIONS,
        "AudioTranscodeOptions": AUDIO_TRANSCODE_OPTIONS,
        "JobRequest": JOB_REQUEST,
        "Submission": SUBMISSION,
        "Job": JOB,
        "JobPage": JOB_PAGE,
        "RetrySubmission": RETRY,
        "ImgproxyInfo": IMGPROXY_INFO,
    }
    for job_type, options in _OPTIONS_BY_TYPE.items():
        result[f"JobRequest_{job_type.replace(':', '_')}"] = _job_request(job_type, options)
    return result
