"""System routes, request ids, recovery, /metrics (I27) and the OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import Receive, Scope, Send

from tests.e2e.http_world import API, PLAIN, World, check_health_endpoints, memory_world
from tests.support.metrics import assert_i27_metrics
from vylux_adapters.http.metrics_endpoint import metrics_app
from vylux_adapters.http.middleware.metrics import HttpMetricsMiddleware
from vylux_adapters.http.openapi import openapi_document, openapi_path
from vylux_adapters.memory import fake_image
from vylux_adapters.telemetry.metrics import Metrics, build_registry
from vylux_core.errors import InvalidImageOptions, InvalidInput
from vylux_core.images.options import parse_image_options
from vylux_core.images.path import parse_image_request_path
from vylux_core.jobs.job import JobType
from vylux_core.jobs.request import decode_job_request
from vylux_core.jobs.task import QueueStats
from vylux_core.media.mime_types import STREAMABLE, extension_of
from vylux_core.ports.task_queue import TaskQueue


async def test_i19_health_endpoints(world: World) -> None:
    await check_health_endpoints(world)


@pytest.mark.parametrize(
    ("down", "text"),
    [
        pytest.param({"queue"}, "not ready: redis", id="redis-down"),
        pytest.param({"database", "media"}, "not ready: postgres, media bucket", id="two-down"),
    ],
)
async def test_readyz_names_what_is_down(world: World, down: set[str], text: str) -> None:
    world.outages.down.update(down)
    response = await world.client.get("/readyz")
    assert (response.status_code, response.text, response.headers["content-type"]) == (
        503,
        text,
        PLAIN,
    )


async def test_metrics_is_404_when_the_process_has_none(world: World) -> None:
    response = await world.client.get("/metrics")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


# --- request ids and recovery ---------------------------------------------------------------------


async def test_request_id_is_echoed_or_made_up(world: World) -> None:
    echoed = await world.client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    fresh = [await world.client.get(path) for path in ("/healthz", "/nope", "/api/jobs")]
    assert echoed.headers["x-request-id"] == "abc-123"
    ids = [response.headers["x-request-id"] for response in fresh]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == 3


async def _broken_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("internal detail 10.9.9.9")


async def test_a_crash_outside_any_route_is_a_logged_json_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with memory_world(metrics_app=_broken_app) as world:
        response = await world.client.get("/metrics", headers={"X-Request-Id": "crash-1"})
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert response.headers["x-request-id"] == "crash-1"
    assert "10.9.9.9" not in response.text
    assert any("crash-1" in record.getMessage() for record in caplog.records)


# --- I27: metrics through the telemetry middleware -----------------------------------------------


async def test_i27_metrics_endpoint_exposes_prometheus_metrics() -> None:
    registry = build_registry(process_collectors=False)
    metrics = Metrics(registry)
    queues: list[TaskQueue] = []

    async def queue_stats() -> list[QueueStats]:
        return await queues[0].stats()

    async with memory_world(
        metrics_app=metrics_app(metrics, registry, queue_stats),
        extra_middleware=[Middleware(HttpMetricsMiddleware, metrics=metrics)],
    ) as world:
        queues.append(world.queue)
        await world.put_source("a.png", fake_image(2, 2))
        await world.client.get("/healthz")
        assert (await world.client.get(world.img_path("w8", "a.png", "webp"))).status_code == 200
        job = {"type": "image:thumbnail", "hash": "abc", "source": "a.png"}
        assert (await world.client.post("/api/jobs", json=job, headers=API)).status_code == 202
        response = await world.client.get("/metrics")
    assert response.status_code == 200
    assert_i27_metrics(response.text)


# --- OpenAPI -------------------------------------------------------------------------------------

_HTTP_METHODS = {"get", "head", "post", "put", "delete", "patch", "options", "trace"}


def _document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in _HTTP_METHODS
    }


async def test_openapi_matches_the_routing_table(world: World) -> None:
    response = await world.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert isinstance(world.app, Starlette)
    served = {
        (openapi_path(route.path), method) for route in world.app.routes for method in route.allowed
    }
    assert _document_operations(document) == served


async def test_openapi_paths_answer_options_with_the_documented_methods(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = await world.client.options(concrete)
        allowed = set(response.headers["allow"].split(", ")) - {"OPTIONS"}
        assert allowed == {method.upper() for method in item if method in _HTTP_METHODS}, path


async def test_openapi_document_is_self_consistent(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', _dump(document))
    assert refs
    assert set(refs) <= set(document["components"]["schemas"])
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["keyToken"]["scheme"] == "bearer"
    ids = []
    for path, item in document["paths"].items():
        declared = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            ids.append(operation["operationId"])
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == declared, (path, method)
            assert operation["responses"], (path, method)
    assert len(ids) == len(set(ids))
    job_request = document["components"]["schemas"]["JobRequest"]
    assert len(job_request["oneOf"]) == len(JobType)


async def test_openapi_documents_the_storyboard_stage_and_job_type(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    stage = schemas["FullOptions"]["properties"]["storyboard"]
    assert {"type": "boolean"} in stage["oneOf"]
    assert {"$ref": "#/components/schemas/StoryboardOptions"} in stage["oneOf"]
    assert "video:storyboard" in schemas["Job"]["properties"]["type"]["enum"]


async def test_openapi_documents_the_transcode_downloads_option(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    downloads = document["components"]["schemas"]["TranscodeOptions"]["properties"]["downloads"]
    assert "array" in downloads["type"]
    assert downloads["items"]["enum"] == ["highest", "audio"]
    assert downloads["uniqueItems"] is True


async def test_openapi_documents_the_transcode_captions_option(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    captions = document["components"]["schemas"]["TranscodeOptions"]["properties"]["captions"]
    entry = captions["items"]
    assert set(entry["properties"]) == {"source", "language", "name", "default"}
    assert entry["required"] == ["source", "language"]


async def test_openapi_documents_the_audio_transcode_options(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "JobRequest_audio_transcode" in schemas
    options = schemas["AudioTranscodeOptions"]["properties"]
    assert set(options) == {"encrypt", "downloads", "waveform"}
    assert options["downloads"]["items"]["enum"] == ["mp3", "m4a", "flac"]
    bins = options["waveform"]["properties"]["bins"]
    assert (bins["minimum"], bins["maximum"], bins["default"]) == (10, 10_000, 1000)


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document)


async def test_openapi_head_answers_have_no_body(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    heads = [item["head"] for item in document["paths"].values() if "head" in item]
    assert len(heads) == 4
    for operation in heads:
        assert not [answer for answer in operation["responses"].values() if "content" in answer]
    # Refusals too: a HEAD 403 sends no JSON message.
    response = await world.client.head("/original/bad/a.png")
    assert (response.status_code, response.content) == (403, b"")


def _pattern(path: str, name: str) -> re.Pattern[str]:
    operation = openapi_document()["paths"][path]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
    return re.compile(parameter["schema"]["pattern"])


# Generated requests outside a documented pattern must be refused (schemathesis'
# negative_data_rejection), so no pattern may be narrower than its parser.
_TOKENS = st.tuples(
    st.sampled_from("whqx"), st.sampled_from(["", "+", "-", "--"]), st.text("0197", max_size=3)
).map("".join)
_OPTIONS_TEXT = st.lists(_TOKENS, max_size=3).map("_".join) | st.text("wq0_+-%", max_size=5)
_EXTENSIONS = ["webp", "avif", "jpg", "jpeg", "png", "gif", "m3u8", "m4s", "mp4", "txt", "svg"]
_ANY_CASE = st.sampled_from(_EXTENSIONS).flatmap(
    lambda ext: st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in ext]).map("".join)
)
_FILE_NAMES = st.tuples(
    st.text("a/.%\n\u00e9", max_size=4), st.sampled_from([".", "", "/."]), _ANY_CASE
).map("".join)


def _options_accepted(text: str) -> bool:
    try:
        # Empty options parse, and are refused before the signature is checked.
        return not parse_image_options(text).is_empty
    except InvalidImageOptions:
        return False


@given(_OPTIONS_TEXT)
def test_openapi_opts_pattern_refuses_only_what_the_parser_refuses(text: str) -> None:
    if _pattern("/img/{sig}/{opts}/{source}", "opts").search(text) is None:
        assert not _options_accepted(text)


@given(_FILE_NAMES)
def test_openapi_source_pattern_refuses_only_what_the_parser_refuses(text: str) -> None:
    if _pattern("/img/{sig}/{opts}/{source}", "source").search(text) is None:
        with pytest.raises(InvalidInput):
            parse_image_request_path(quote(text, safe=""))


@given(_FILE_NAMES)
def test_openapi_stream_pattern_refuses_only_unstreamable_files(text: str) -> None:
    if _pattern("/stream/{hash}/{file_path}", "file_path").search(text) is None:
        assert extension_of(text) not in STREAMABLE


_MAYBE_NULL = st.none() | st.sampled_from(["", "webp", ".PNG", "JPEG", ".", "bmp", "x"])
_NUMBER = st.none() | st.integers(0, 3) | st.floats(0, 2) | st.just("1")
_OPTIONS = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "outputs": st.none()
        | st.lists(
            st.fixed_dictionaries(
                {"variant": st.sampled_from(["a", None])},
                optional={"width": _NUMBER, "format": _MAYBE_NULL},
            ),
            max_size=2,
        ),
        "timestamp_sec": _NUMBER,
        "duration": _NUMBER,
        "format": _MAYBE_NULL,
        "encrypt": st.none() | st.booleans(),
        "cover": st.none() | st.fixed_dictionaries({}, optional={"timestamp_sec": _NUMBER}),
        "transcode": st.none() | st.just({}),
        "storyboard": st.none() | st.booleans() | st.just({}) | st.just({"x": 1}) | st.just(1),
    },
)
_JOB_BODIES = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["image:thumbnail", "video:cover", "video:preview", "video:full", "video:storyboard"]
        )
    },
    optional={
        "hash": st.sampled_from(["h", "", None]),
        "source": st.sampled_from(["s", "", None]),
        "callback_url": st.sampled_from(["", None, "https://example.com/done", "ftp://x"]),
        "options": _OPTIONS,
    },
)


@given(_JOB_BODIES)
def test_openapi_job_request_schema_refuses_only_what_the_decoder_refuses(
    body: dict[str, Any],
) -> None:
    document = openapi_document()
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/JobRequest", "components": document["components"]}
    )
    if not validator.is_valid(body):
        with pytest.raises(InvalidInput):
            decode_job_request(body)


async def test_lifespan_is_answered_and_websockets_are_closed(world: World) -> None:
    incoming = iter(
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}, {"type": "websocket.connect"}]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await world.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    await world.app({"type": "websocket", "path": "/img", "headers": []}, receive, send)

    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
        "websocket.close",
    ]
