"""The OpenAPI document states the core's limits and enums, not copies of them."""

from __future__ import annotations

from typing import Any

import pytest

from vylux_adapters.http.openapi import openapi_document
from vylux_core.errors import InvalidOptions
from vylux_core.images.options import MAX_DIMENSION
from vylux_core.jobs.job import CallbackStatus, JobType
from vylux_core.jobs.options import (
    MAX_PREVIEW_FPS,
    MAX_PREVIEW_SECONDS,
    MAX_PREVIEW_WIDTH,
    MAX_THUMBNAIL_OUTPUTS,
    MAX_TIMESTAMP_SECONDS,
    PREVIEW_FORMATS,
    VARIANT_PATTERN,
    decode_options,
)
from vylux_core.jobs.results import RetryStrategy


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = openapi_document()["components"]["schemas"]
    return schemas


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema["properties"]
    return properties


def _bound(schema: dict[str, Any], key: str) -> Any:
    """``schema[key]`` of a property that may be widened to admit null."""
    return schema[key] if key in schema else schema["oneOf"][0][key]


def test_thumbnail_limits_are_the_cores() -> None:
    outputs = _properties(_schemas()["ThumbnailOptions"])["outputs"]
    item = _properties(outputs["items"])

    assert outputs["maxItems"] == MAX_THUMBNAIL_OUTPUTS
    assert item["variant"]["pattern"] == f"^{VARIANT_PATTERN.pattern}$"
    assert _bound(item["width"], "maximum") == MAX_DIMENSION


def test_preview_and_cover_limits_are_the_cores() -> None:
    preview = _properties(_schemas()["PreviewOptions"])
    cover = _properties(_schemas()["CoverOptions"])

    assert _bound(preview["duration"], "maximum") == MAX_PREVIEW_SECONDS
    assert _bound(preview["width"], "maximum") == MAX_PREVIEW_WIDTH
    assert _bound(preview["fps"], "maximum") == MAX_PREVIEW_FPS
    assert _bound(cover["timestamp_sec"], "maximum") == MAX_TIMESTAMP_SECONDS
    assert [v for v in preview["format"]["enum"] if v is not None] == list(PREVIEW_FORMATS)


def test_whole_limits_are_written_as_integers() -> None:
    # The document reads 30 and 604800, as before the limits came from float constants.
    preview = _properties(_schemas()["PreviewOptions"])

    assert type(_bound(preview["duration"], "maximum")) is int
    assert type(_bound(preview["start_sec"], "maximum")) is int


def test_enums_are_the_cores() -> None:
    job = _properties(_schemas()["Job"])
    retry = _properties(_schemas()["RetrySubmission"])

    assert job["callback_status"]["enum"] == [status.value for status in CallbackStatus]
    assert set(retry["strategy"]["enum"]) == {
        RetryStrategy.RETRY_JOB.value,
        RetryStrategy.RETRY_TASKS.value,
    }


def test_the_documented_preview_limit_is_the_one_the_core_enforces() -> None:
    # One past the documented maximum is refused by the core's decoder.
    limit = _bound(_properties(_schemas()["PreviewOptions"])["fps"], "maximum")

    decode_options(JobType.PREVIEW, {"fps": limit})
    with pytest.raises(InvalidOptions):
        decode_options(JobType.PREVIEW, {"fps": limit + 1})
