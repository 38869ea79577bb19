"""Strict job-options decoding per type, canonical forms and the worker's defaults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vylux_core.errors import InvalidOptions
from vylux_core.images.options import MAX_DIMENSION
from vylux_core.jobs.canonical_json import encode_canonical
from vylux_core.jobs.job import JobType
from vylux_core.jobs.options import (
    MAX_PREVIEW_FPS,
    MAX_PREVIEW_SECONDS,
    MAX_PREVIEW_WIDTH,
    MAX_THUMBNAIL_OUTPUTS,
    MAX_TIMESTAMP_SECONDS,
    EffectivePreview,
    ThumbnailOutput,
    canonical_options,
    decode_options,
)

T = JobType.THUMBNAIL
C = JobType.COVER
P = JobType.PREVIEW
X = JobType.TRANSCODE
F = JobType.FULL
S = JobType.STORYBOARD


def _outputs(count: int) -> dict[str, Any]:
    return {"outputs": [{"variant": f"v{index}"} for index in range(count)]}


# --- rejections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "raw", "detail"),
    [
        # unknown keys at every level
        pytest.param(
            C, {"timestamp": 1}, 'unknown field "timestamp" in options', id="cover-unknown"
        ),
        pytest.param(P, {"height": 270}, 'unknown field "height" in options', id="preview-unknown"),
        pytest.param(
            X, {"encrypted": True}, 'unknown field "encrypted" in options', id="transcode-unknown"
        ),
        pytest.param(
            F,
            {"timestamp_sec": 1},
            'unknown field "timestamp_sec" in options',
            id="u14-full-flat-options",
        ),
        pytest.param(
            F, {"encrypt": True}, 'unknown field "encrypt" in options', id="full-flat-encrypt"
        ),
        pytest.param(
            F, {"cover": {"ts": 1}}, 'unknown field "ts" in options.cover', id="full-cover-unknown"
        ),
        pytest.param(
            F,
            {"preview": {"quality": 70}},
            'unknown field "quality" in options.preview',
            id="full-preview-unknown",
        ),
        pytest.param(
            F,
            {"transcode": {"key": "k"}},
            'unknown field "key" in options.transcode',
            id="full-transcode-unknown",
        ),
        pytest.param(
            T, {"output": []}, 'unknown field "output" in options', id="thumbnail-unknown"
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "crop": True}]},
            'unknown field "crop" in options.outputs[0]',
            id="thumbnail-output-unknown",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a"}, {"variant": "b", "q": 1}]},
            'unknown field "q" in options.outputs[1]',
            id="thumbnail-second-output-unknown",
        ),
        # non-object options and stages
        pytest.param(C, "x", "options must be an object", id="cover-string-options"),
        pytest.param(P, [], "options must be an object", id="preview-array-options"),
        pytest.param(X, True, "options must be an object", id="transcode-bool-options"),
        pytest.param(F, 1, "options must be an object", id="full-number-options"),
        pytest.param(
            T, [{"variant": "a"}], "options must be an object", id="thumbnail-array-options"
        ),
        pytest.param(F, {"cover": 1}, "options.cover must be an object", id="full-cover-number"),
        pytest.param(
            F, {"preview": []}, "options.preview must be an object", id="full-preview-array"
        ),
        pytest.param(
            F, {"transcode": True}, "options.transcode must be an object", id="full-transcode-bool"
        ),
        pytest.param(
            T, {"outputs": {}}, "options.outputs must be an array", id="thumbnail-outputs-object"
        ),
        pytest.param(
            T,
            {"outputs": ["thumb"]},
            "options.outputs[0] must be an object",
            id="thumbnail-output-string",
        ),
        # wrong JSON types
        pytest.param(
            C,
            {"timestamp_sec": "1"},
            "options.timestamp_sec must be a number",
            id="cover-string-for-number",
        ),
        pytest.param(
            C,
            {"timestamp_sec": True},
            "options.timestamp_sec must be a number",
            id="cover-true-is-not-1",
        ),
        pytest.param(
            F,
            {"cover": {"timestamp_sec": False}},
            "options.cover.timestamp_sec must be a number",
            id="full-cover-false-is-not-0",
        ),
        pytest.param(
            P, {"start_sec": "2"}, "options.start_sec must be a number", id="preview-string-start"
        ),
        pytest.param(
            P, {"duration": True}, "options.duration must be a number", id="preview-true-duration"
        ),
        pytest.param(
            P, {"width": "480"}, "options.width must be an integer", id="preview-string-width"
        ),
        pytest.param(
            P, {"width": True}, "options.width must be an integer", id="preview-true-width"
        ),
        pytest.param(
            P, {"width": 480.5}, "options.width must be an integer", id="preview-fractional-width"
        ),
        pytest.param(
            P, {"fps": 12.5}, "options.fps must be an integer", id="preview-fractional-fps"
        ),
        pytest.param(
            P, {"format": 1}, "options.format must be a string", id="preview-number-format"
        ),
        pytest.param(
            X, {"encrypt": 1}, "options.encrypt must be a boolean", id="transcode-1-is-not-true"
        ),
        pytest.param(
            X, {"encrypt": "true"}, "options.encrypt must be a boolean", id="transcode-string-bool"
        ),
        pytest.param(
            F,
            {"preview": {"width": 480.5}},
            "options.preview.width must be an integer",
            id="full-preview-fractional-width",
        ),
        pytest.param(
            F,
            {"transcode": {"encrypt": 0}},
            "options.transcode.encrypt must be a boolean",
            id="full-transcode-0",
        ),
        pytest.param(
            X,
            {"max_resolution": "4k"},
            "options.max_resolution must be one of 1080p, 1440p, 2160p",
            id="transcode-unknown-max-resolution",
        ),
        pytest.param(
            X,
            {"max_resolution": 2160},
            "options.max_resolution must be a string",
            id="transcode-number-max-resolution",
        ),
        pytest.param(
            X, {"storyboard": "yes"}, "options.storyboard must be a boolean", id="storyboard-str"
        ),
        pytest.param(
            F,
            {"transcode": {"storyboard": True}},
            'unknown field "storyboard" in options.transcode',
            id="full-transcode-storyboard",
        ),
        pytest.param(
            F,
            {"storyboard": "off"},
            "options.storyboard must be a boolean or an object",
            id="full-storyboard-string",
        ),
        pytest.param(
            F,
            {"storyboard": {"tiles": 50}},
            'unknown field "tiles" in options.storyboard',
            id="full-storyboard-unknown-field",
        ),
        pytest.param(
            S, {"interval": 2}, 'unknown field "interval" in options', id="storyboard-unknown"
        ),
        pytest.param(
            X,
            {"downloads": "highest"},
            "options.downloads must be an array of strings",
            id="transcode-downloads-not-array",
        ),
        pytest.param(
            X,
            {"downloads": ["highest", "mp3"]},
            "options.downloads: unknown download 'mp3' (one of highest, audio)",
            id="transcode-unknown-download",
        ),
        pytest.param(
            X,
            {"downloads": ["audio", "audio"]},
            "options.downloads lists a download twice",
            id="transcode-duplicate-download",
        ),
        pytest.param(
            F,
            {"transcode": {"encrypt": True, "downloads": ["highest"]}},
            "options.transcode.downloads cannot be combined with encrypt",
            id="full-downloads-with-encrypt",
        ),
        pytest.param(
            F,
            {"transcode": {"max_resolution": "2160P"}},
            "options.transcode.max_resolution must be one of 1080p, 1440p, 2160p",
            id="full-max-resolution-exact-case",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": 5}]},
            "options.outputs[0].variant must be a string",
            id="thumbnail-number-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "width": "300"}]},
            "options.outputs[0].width must be an integer",
            id="thumbnail-string-width",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "width": True}]},
            "options.outputs[0].width must be an integer",
            id="thumbnail-true-width",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "height": 480.5}]},
            "options.outputs[0].height must be an integer",
            id="thumbnail-fractional-height",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "format": ["webp"]}]},
            "options.outputs[0].format must be a string",
            id="thumbnail-array-format",
        ),
        # ranges
        pytest.param(
            P, {"format": "png"}, "options.format must be one of webp, gif", id="preview-png"
        ),
        pytest.param(
            P, {"format": ""}, "options.format must be one of webp, gif", id="preview-empty-format"
        ),
        pytest.param(
            F,
            {"preview": {"format": "jpeg"}},
            "options.preview.format must be one of webp, gif",
            id="full-preview-jpeg",
        ),
        pytest.param(
            P, {"width": 0}, "options.width must be between 1 and", id="preview-zero-width"
        ),
        pytest.param(
            P, {"width": -480}, "options.width must be between 1 and", id="preview-negative-width"
        ),
        pytest.param(
            P,
            {"width": MAX_PREVIEW_WIDTH + 1},
            "options.width must be between 1 and",
            id="preview-width-too-big",
        ),
        pytest.param(P, {"fps": 0}, "options.fps must be between 1 and", id="preview-zero-fps"),
        pytest.param(
            P,
            {"fps": MAX_PREVIEW_FPS + 1},
            "options.fps must be between 1 and",
            id="preview-fps-too-big",
        ),
        pytest.param(
            P,
            {"duration": 0},
            "options.duration must be greater than 0",
            id="preview-zero-duration",
        ),
        pytest.param(
            P, {"duration": -1}, "options.duration must be between", id="preview-negative-duration"
        ),
        pytest.param(
            P,
            {"duration": MAX_PREVIEW_SECONDS + 0.5},
            "options.duration must be between",
            id="preview-duration-too-long",
        ),
        pytest.param(
            P, {"start_sec": -0.5}, "options.start_sec must be between", id="preview-negative-start"
        ),
        pytest.param(
            C, {"timestamp_sec": -1}, "options.timestamp_sec must be between", id="cover-negative"
        ),
        pytest.param(
            C,
            {"timestamp_sec": MAX_TIMESTAMP_SECONDS + 1},
            "options.timestamp_sec must be between",
            id="cover-too-late",
        ),
        pytest.param(
            C,
            {"timestamp_sec": float("inf")},
            "options.timestamp_sec must be between",
            id="cover-infinity",
        ),
        pytest.param(
            C,
            {"timestamp_sec": float("nan")},
            "options.timestamp_sec must be between",
            id="cover-nan",
        ),
        pytest.param(
            C,
            {"timestamp_sec": 10**400},
            "options.timestamp_sec must be between",
            id="cover-huge-integer",
        ),
        pytest.param(
            P,
            {"start_sec": -(10**400)},
            "options.start_sec must be between",
            id="preview-huge-negative-integer",
        ),
        pytest.param(
            P, {"width": 10**400}, "options.width must be between", id="preview-huge-integer-width"
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "format": "bmp"}]},
            "options.outputs[0].format must be one of webp, avif, jpg, png, gif",
            id="thumbnail-bmp",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "width": 0}]},
            "options.outputs[0].width must be between 1 and",
            id="thumbnail-zero-width",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "height": -1}]},
            "options.outputs[0].height must be between 1 and",
            id="thumbnail-negative-height",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a", "width": MAX_DIMENSION + 1}]},
            "options.outputs[0].width must be between 1 and",
            id="thumbnail-width-too-big",
        ),
        pytest.param(
            T,
            {"outputs": [{"width": 300}]},
            "options.outputs[0].variant is required",
            id="thumbnail-missing-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": ""}]},
            "options.outputs[0].variant must match",
            id="thumbnail-empty-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "Thumb"}]},
            "options.outputs[0].variant must match",
            id="thumbnail-upper-case-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a/b"}]},
            "options.outputs[0].variant must match",
            id="thumbnail-slash-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": ".."}]},
            "options.outputs[0].variant must match",
            id="thumbnail-dotdot-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a" * 33}]},
            "options.outputs[0].variant must match",
            id="thumbnail-33-char-variant",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "a"}, {"variant": "a", "width": 10}]},
            "options.outputs variant names must be unique",
            id="thumbnail-duplicate-variant",
        ),
        pytest.param(
            T,
            _outputs(MAX_THUMBNAIL_OUTPUTS + 1),
            f"options.outputs may hold at most {MAX_THUMBNAIL_OUTPUTS} items",
            id="thumbnail-too-many-outputs",
        ),
    ],
)
def test_decode_rejects(job_type: JobType, raw: Any, detail: str) -> None:
    with pytest.raises(InvalidOptions) as caught:
        decode_options(job_type, raw)

    assert caught.value.message.startswith("invalid options: ")
    assert detail in caught.value.message
    assert str(caught.value) == caught.value.message
    assert caught.value.code == "invalid_options"


# --- canonical forms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "raw", "want"),
    [
        pytest.param(C, None, {}, id="cover-null-is-empty"),
        pytest.param(X, {"downloads": []}, {}, id="transcode-no-downloads-dropped"),
        pytest.param(X, {"storyboard": False}, {}, id="transcode-storyboard-false-dropped"),
        pytest.param(X, {"storyboard": True}, {"storyboard": True}, id="transcode-storyboard"),
        pytest.param(F, {"storyboard": True}, {}, id="full-storyboard-on-is-the-default"),
        pytest.param(F, {"storyboard": {}}, {}, id="full-storyboard-object-is-on"),
        pytest.param(
            F, {"storyboard": False}, {"storyboard": False}, id="full-storyboard-off-is-kept"
        ),
        pytest.param(S, None, {}, id="storyboard-null-is-empty"),
        pytest.param(X, {"downloads": None}, {}, id="transcode-null-downloads-dropped"),
        pytest.param(
            X,
            {"downloads": ["audio", "highest"]},
            {"downloads": ["highest", "audio"]},
            id="transcode-downloads-in-one-order",
        ),
        pytest.param(
            F,
            {"transcode": {"downloads": ["audio"]}},
            {"transcode": {"downloads": ["audio"]}},
            id="full-transcode-downloads",
        ),
        pytest.param(C, {}, {}, id="cover-empty"),
        pytest.param(C, {"timestamp_sec": None}, {}, id="cover-null-field-dropped"),
        pytest.param(
            C, {"timestamp_sec": 2.0}, {"timestamp_sec": 2}, id="cover-integral-float-to-int"
        ),
        pytest.param(C, {"timestamp_sec": 2.5}, {"timestamp_sec": 2.5}, id="cover-fraction-kept"),
        pytest.param(
            P,
            {"start_sec": 1, "duration": 3, "width": 480, "fps": 12, "format": "webp"},
            {"start_sec": 1, "duration": 3, "width": 480, "fps": 12, "format": "webp"},
            id="preview-spec-example",
        ),
        pytest.param(
            P,
            {"start_sec": 1.0, "duration": 2.0},
            {"start_sec": 1, "duration": 2},
            id="preview-integral-floats-to-ints",
        ),
        pytest.param(
            P,
            {"duration": 0.5, "format": "gif"},
            {"duration": 0.5, "format": "gif"},
            id="preview-gif",
        ),
        pytest.param(
            P,
            {"duration": MAX_PREVIEW_SECONDS, "width": MAX_PREVIEW_WIDTH, "fps": MAX_PREVIEW_FPS},
            {"duration": 30, "width": MAX_PREVIEW_WIDTH, "fps": MAX_PREVIEW_FPS},
            id="preview-upper-bounds-accepted",
        ),
        pytest.param(X, {"encrypt": False}, {}, id="transcode-false-dropped"),
        pytest.param(X, {"encrypt": True}, {"encrypt": True}, id="transcode-true-kept"),
        pytest.param(X, None, {}, id="transcode-null"),
        pytest.param(X, {"max_resolution": "1080p"}, {}, id="transcode-default-max-res-dropped"),
        pytest.param(
            X,
            {"max_resolution": "2160p", "encrypt": True},
            {"encrypt": True, "max_resolution": "2160p"},
            id="transcode-max-resolution-kept",
        ),
        pytest.param(
            F,
            {"transcode": {"max_resolution": "1440p"}},
            {"transcode": {"max_resolution": "1440p"}},
            id="full-max-resolution-kept",
        ),
        pytest.param(F, {"cover": {}}, {}, id="full-empty-stage-dropped"),
        pytest.param(
            F,
            {"cover": None, "preview": {}, "transcode": {"encrypt": False}},
            {},
            id="full-all-stages-empty",
        ),
        pytest.param(
            F,
            {
                "cover": {"timestamp_sec": 2.0},
                "preview": {"format": "gif"},
                "transcode": {"encrypt": True},
            },
            {
                "cover": {"timestamp_sec": 2},
                "preview": {"format": "gif"},
                "transcode": {"encrypt": True},
            },
            id="full-every-stage",
        ),
        pytest.param(
            F,
            {"transcode": {"encrypt": True}, "cover": {}},
            {"transcode": {"encrypt": True}},
            id="full-only-non-empty-stage",
        ),
        pytest.param(T, None, {}, id="thumbnail-null"),
        pytest.param(T, {"outputs": None}, {}, id="thumbnail-null-outputs"),
        pytest.param(T, {"outputs": []}, {}, id="thumbnail-no-outputs"),
        pytest.param(
            T,
            {"outputs": [{"variant": "small", "width": 150, "format": "jpeg"}]},
            {"outputs": [{"variant": "small", "width": 150, "format": "jpg"}]},
            id="thumbnail-jpeg-becomes-jpg",
        ),
        pytest.param(
            T,
            {
                "outputs": [
                    {"variant": "a", "format": "PNG"},
                    {"variant": "b", "format": ".avif"},
                    {"variant": "c", "format": "gif"},
                ]
            },
            {
                "outputs": [
                    {"variant": "a", "format": "png"},
                    {"variant": "b", "format": "avif"},
                    {"variant": "c", "format": "gif"},
                ]
            },
            id="thumbnail-format-spellings",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "thumb_2x-a", "height": 200}]},
            {"outputs": [{"variant": "thumb_2x-a", "height": 200, "format": "webp"}]},
            id="thumbnail-format-defaults-to-webp",
        ),
        pytest.param(
            T,
            {
                "outputs": [
                    {"variant": "z" * 32, "width": MAX_DIMENSION, "height": 1, "format": "webp"}
                ]
            },
            {
                "outputs": [
                    {"variant": "z" * 32, "width": MAX_DIMENSION, "height": 1, "format": "webp"}
                ]
            },
            id="thumbnail-bounds-accepted",
        ),
        pytest.param(
            T,
            _outputs(MAX_THUMBNAIL_OUTPUTS),
            {
                "outputs": [
                    {"variant": f"v{i}", "format": "webp"} for i in range(MAX_THUMBNAIL_OUTPUTS)
                ]
            },
            id="thumbnail-max-outputs-accepted",
        ),
    ],
)
def test_canonical_options(job_type: JobType, raw: Any, want: dict[str, Any]) -> None:
    got = canonical_options(decode_options(job_type, raw))

    # json.dumps tells 2 from 2.0 and True from 1, which == on dicts does not.
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


# --- defaults ---------------------------------------------------------------------------

DEFAULT_PREVIEW = EffectivePreview(start_sec=2.0, duration=3.0, width=480, fps=10, format="webp")


def _cover_ts(options: Any) -> object:
    return options.effective_timestamp()


def _full_cover_ts(options: Any) -> object:
    return options.cover.effective_timestamp()


def _preview(options: Any) -> object:
    return options.effective()


def _full_preview(options: Any) -> object:
    return options.preview.effective()


def _thumbnail_outputs(options: Any) -> object:
    return options.effective_outputs()


def _encrypt(options: Any) -> object:
    return options.encrypt


def _full_encrypt(options: Any) -> object:
    return options.transcode.encrypt


def _max_resolution(options: Any) -> object:
    return options.max_resolution


def _full_max_resolution(options: Any) -> object:
    return options.transcode.max_resolution


@pytest.mark.parametrize(
    ("job_type", "raw", "read", "want"),
    [
        pytest.param(C, {}, _cover_ts, 1.0, id="cover-timestamp-default"),
        pytest.param(C, {"timestamp_sec": 2.5}, _cover_ts, 2.5, id="cover-timestamp-given"),
        pytest.param(F, {}, _full_cover_ts, 1.0, id="full-cover-timestamp-default"),
        pytest.param(
            F, {"cover": {"timestamp_sec": 7}}, _full_cover_ts, 7.0, id="full-cover-timestamp-given"
        ),
        pytest.param(P, {}, _preview, DEFAULT_PREVIEW, id="standalone-preview-defaults-start-2"),
        pytest.param(P, None, _preview, DEFAULT_PREVIEW, id="standalone-preview-null-options"),
        pytest.param(F, {}, _full_preview, DEFAULT_PREVIEW, id="full-preview-defaults"),
        pytest.param(
            P,
            {"start_sec": 1, "duration": 4, "width": 320, "fps": 12, "format": "gif"},
            _preview,
            EffectivePreview(start_sec=1.0, duration=4.0, width=320, fps=12, format="gif"),
            id="preview-overrides",
        ),
        pytest.param(
            F,
            {"preview": {"fps": 5}},
            _full_preview,
            EffectivePreview(start_sec=2.0, duration=3.0, width=480, fps=5, format="webp"),
            id="full-preview-partial-override",
        ),
        pytest.param(
            T,
            {},
            _thumbnail_outputs,
            (ThumbnailOutput(variant="thumb", width=300, format="webp"),),
            id="thumbnail-default-output",
        ),
        pytest.param(
            T,
            {"outputs": [{"variant": "big", "width": 1200, "format": "jpg"}]},
            _thumbnail_outputs,
            (ThumbnailOutput(variant="big", width=1200, format="jpg"),),
            id="thumbnail-given-outputs",
        ),
        pytest.param(X, {}, _encrypt, False, id="transcode-encrypt-default"),
        pytest.param(X, {}, _max_resolution, "1080p", id="transcode-max-resolution-default"),
        pytest.param(
            F,
            {"transcode": {"max_resolution": "2160p"}},
            _full_max_resolution,
            "2160p",
            id="full-max-resolution",
        ),
        pytest.param(
            F, {"transcode": {"encrypt": True}}, _full_encrypt, True, id="full-transcode-encrypt"
        ),
    ],
)
def test_effective_values(
    job_type: JobType, raw: Any, read: Callable[[Any], object], want: object
) -> None:
    assert read(decode_options(job_type, raw)) == want


# --- canonical form is a fixed point (hypothesis) ---------------------------------------


def _maybe_null(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _seconds(low: float, high: float, *, exclude_min: bool = False) -> st.SearchStrategy[Any]:
    floats = st.floats(min_value=low, max_value=high, exclude_min=exclude_min)
    return st.one_of(
        floats, st.integers(min_value=int(low) + int(exclude_min), max_value=int(high))
    )


COVER_RAW = st.fixed_dictionaries(
    {}, optional={"timestamp_sec": _maybe_null(_seconds(0.0, MAX_TIMESTAMP_SECONDS))}
)
PREVIEW_RAW = st.fixed_dictionaries(
    {},
    optional={
        "start_sec": _maybe_null(_seconds(0.0, MAX_TIMESTAMP_SECONDS)),
        "duration": _maybe_null(_seconds(0.0, MAX_PREVIEW_SECONDS, exclude_min=True)),
        "width": _maybe_null(st.integers(min_value=1, max_value=MAX_PREVIEW_WIDTH)),
        "fps": _maybe_null(st.integers(min_value=1, max_value=MAX_PREVIEW_FPS)),
        "format": _maybe_null(st.sampled_from(["webp", "gif"])),
    },
)
TRANSCODE_RAW = st.fixed_dictionaries(
    {},
    optional={
        "encrypt": _maybe_null(st.booleans()),
        "max_resolution": _maybe_null(st.sampled_from(["1080p", "1440p", "2160p"])),
    },
)
FULL_RAW = st.fixed_dictionaries(
    {},
    optional={
        "cover": _maybe_null(COVER_RAW),
        "preview": _maybe_null(PREVIEW_RAW),
        "transcode": _maybe_null(TRANSCODE_RAW),
        "storyboard": st.one_of(st.none(), st.booleans(), st.just({})),
    },
)
THUMBNAIL_OUTPUT_RAW = st.fixed_dictionaries(
    {"variant": st.from_regex(r"[a-z0-9_-]{1,32}", fullmatch=True)},
    optional={
        "width": _maybe_null(st.integers(min_value=1, max_value=MAX_DIMENSION)),
        "height": _maybe_null(st.integers(min_value=1, max_value=MAX_DIMENSION)),
        "format": _maybe_null(
            st.sampled_from(["webp", "avif", "jpg", "jpeg", "png", "gif", "WEBP", ".png", "JPEG"])
        ),
    },
)
THUMBNAIL_RAW = st.fixed_dictionaries(
    {},
    optional={
        "outputs": _maybe_null(
            st.lists(
                THUMBNAIL_OUTPUT_RAW,
                max_size=MAX_THUMBNAIL_OUTPUTS,
                unique_by=lambda output: output["variant"],
            )
        )
    },
)
WAVEFORM_RAW = st.fixed_dictionaries(
    {}, optional={"bins": _maybe_null(st.integers(min_value=10, max_value=10_000))}
)
# Downloads and encrypt exclude each other.
AUDIO_RAW = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={"encrypt": _maybe_null(st.booleans()), "waveform": _maybe_null(WAVEFORM_RAW)},
    ),
    st.fixed_dictionaries(
        {"downloads": st.lists(st.sampled_from(["mp3", "m4a", "flac"]), unique=True)},
        optional={"waveform": _maybe_null(WAVEFORM_RAW)},
    ),
)
VALID_RAW: dict[JobType, st.SearchStrategy[Any]] = {
    T: _maybe_null(THUMBNAIL_RAW),
    C: _maybe_null(COVER_RAW),
    P: _maybe_null(PREVIEW_RAW),
    X: _maybe_null(TRANSCODE_RAW),
    F: _maybe_null(FULL_RAW),
    S: _maybe_null(st.just({})),
    JobType.AUDIO_TRANSCODE: _maybe_null(AUDIO_RAW),
}


@pytest.mark.parametrize("job_type", [pytest.param(t, id=t.value) for t in JobType])
@given(data=st.data())
def test_canonical_form_is_a_fixed_point(job_type: JobType, data: st.DataObject) -> None:
    raw = data.draw(VALID_RAW[job_type], label="raw options")
    decoded = decode_options(job_type, raw)
    canonical = canonical_options(decoded)
    stored = json.loads(encode_canonical(canonical))  # as read back from jobs.options

    assert decode_options(job_type, canonical) == decoded
    assert decode_options(job_type, stored) == decoded
    assert canonical_options(decode_options(job_type, stored)) == canonical
