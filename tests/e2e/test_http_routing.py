"""Routing on the raw path with Echo's semantics, the router's answers and the error table."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.e2e.http_world import API, World, memory_world
from vylux_adapters.http.contract_templates import CONTRACT_TEMPLATES
from vylux_adapters.http.errors import BodyTooLarge, Family, error_response
from vylux_adapters.http.handoff import route_template
from vylux_adapters.http.routing import RawPathRoute
from vylux_core.errors import (
    DatabaseUnavailable,
    InvalidHash,
    InvalidImageOptions,
    InvalidJobRequest,
    InvalidKeyToken,
    InvalidSignature,
    InvalidStorageKey,
    JobNotFound,
    KeyNotFound,
    KeyUnwrapFailed,
    NotRetryable,
    ObjectNotFound,
    ProcessingFailed,
    QueueUnavailable,
    SourceMissing,
    SourceTooLarge,
    StorageUnavailable,
    Unauthorized,
    UnprocessableImage,
    UnresolvableDestination,
    UnsafeDestination,
    UnsupportedFormat,
)
from vylux_core.services import SourceFetchFailed

SIG = "0" * 64


class ScopeRecorder:
    """An outer middleware that keeps each finished request's scope, as metrics would."""

    def __init__(self, app: ASGIApp, *, scopes: list[Scope]) -> None:
        self._app = app
        self._scopes = scopes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._app(scope, receive, send)
        finally:
            self._scopes.append(scope)


# --- 404 / 405 / OPTIONS -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/nope", id="unknown"),
        pytest.param("/healthz/", id="trailing-slash"),
        pytest.param("/api/unknown", id="unknown-api-path-without-auth-check"),
        pytest.param("/api/jobs/a/b", id="job-id-is-one-segment"),
        pytest.param("/api/key/", id="empty-last-param"),
        pytest.param("/api/media/", id="empty-media-hash"),
        pytest.param("/api/jobs/", id="empty-job-id"),
        pytest.param("/img/sig/w10", id="img-without-rest-slash"),
        pytest.param("/", id="root"),
        # DASHBOARD_ENABLED off (this world's default): no page, no page API.
        pytest.param("/dashboard", id="dashboard-off"),
        pytest.param("/dashboard/api/queues", id="dashboard-api-off"),
    ],
)
async def test_unknown_paths_are_404_json(world: World, path: str) -> None:
    response = await world.client.get(path)
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    assert response.headers["content-type"] == "application/json"
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("POST", "/healthz", "OPTIONS, GET", id="healthz"),
        pytest.param("HEAD", "/healthz", "OPTIONS, GET", id="head-not-mapped-on-system-routes"),
        pytest.param("DELETE", "/api/jobs", "OPTIONS, GET, POST", id="jobs"),
        pytest.param("DELETE", "/api/jobs/x", "OPTIONS, GET", id="job"),
        pytest.param("GET", "/api/jobs/x/retry", "OPTIONS, POST", id="retry"),
        pytest.param("GET", "/api/jobs/x/cancel", "OPTIONS, POST", id="cancel"),
        pytest.param("GET", "/api/media/abc", "OPTIONS, DELETE", id="media"),
        pytest.param("POST", f"/img/{SIG}/w1/a.webp", "OPTIONS, GET, HEAD", id="img"),
        pytest.param("PUT", f"/original/{SIG}/a.png", "OPTIONS, GET, HEAD", id="original"),
        pytest.param("DELETE", "/stream/abc/a.m3u8", "OPTIONS, GET, HEAD", id="stream"),
        pytest.param("POST", "/api/key/abc", "OPTIONS, GET", id="key"),
    ],
)
async def test_wrong_method_is_405_with_allow(
    world: World, method: str, path: str, allow: str
) -> None:
    response = await world.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert response.json() == {"message": "Method Not Allowed"}
    else:
        assert response.content == b""


async def test_the_first_matching_template_answers_whatever_the_method() -> None:
    """``/dashboard/api/archived/x/requeue`` also fits ``…/:queue/:id`` (DELETE), which
    comes later in the table: the first template answers, so DELETE is a 405."""
    async with memory_world(http={"dashboard_enabled": True}) as world:
        response = await world.client.delete("/dashboard/api/archived/x/requeue", headers=API)
        other = await world.client.delete("/dashboard/api/archived/x/y", headers=API)
    assert (response.status_code, response.headers["allow"]) == (405, "OPTIONS, POST")
    assert other.status_code != 405


async def test_options_on_a_known_path_is_204_with_allow_and_no_auth(world: World) -> None:
    response = await world.client.options("/api/jobs")
    assert (response.status_code, response.headers["allow"], response.content) == (
        204,
        "OPTIONS, GET, POST",
        b"",
    )
    assert (await world.client.options("/nope")).status_code == 404


async def test_wrong_method_on_api_route_needs_no_key(world: World) -> None:
    response = await world.client.put("/api/jobs")
    assert response.status_code == 405


# --- raw-path parameters ---------------------------------------------------------------------


async def test_last_param_swallows_slashes(world: World) -> None:
    # /api/key/:hash/clearkey continues after :hash, so (as in Echo's tree) the key
    # route's hash stops at a slash now (docs/differences.md D48); /api/media/:hash
    # still swallows the rest.
    key = await world.client.get("/api/key/a/b")
    media = await world.client.delete("/api/media/a/b", headers=API)  # matched: bad hash
    assert key.status_code == 404
    assert media.status_code == 400
    assert media.json()["message"].startswith("hash must be")


async def test_empty_options_reach_the_image_handler(world: World) -> None:
    response = await world.client.get(f"/img/{SIG}//photo.png.webp")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "bad options: options must not be empty"},
    )


async def test_query_string_does_not_take_part_in_matching(world: World) -> None:
    response = await world.client.get("/healthz?x=/y")
    assert (response.status_code, response.text) == (200, "OK")


async def test_path_that_is_not_utf8_matches_nothing(world: World) -> None:
    response = await world.raw("GET", b"/original/" + SIG.encode() + b"/\xff.png")
    assert response.status == 404


# --- route labels for the metrics middleware -----------------------------------------------


async def test_route_template_is_left_in_the_scope() -> None:
    scopes: list[Scope] = []
    middleware = [Middleware(ScopeRecorder, scopes=scopes)]
    async with memory_world(extra_middleware=middleware) as world:
        requests = [
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/metrics"),
            ("GET", f"/img/{SIG}/w1/a.webp"),
            ("HEAD", f"/original/{SIG}/a.png"),
            ("GET", f"/thumb/{SIG}/a.png"),
            ("GET", "/stream/abc/a.m3u8"),
            ("GET", "/api/key/abc"),
            ("POST", "/api/jobs"),
            ("GET", "/api/jobs/x"),
            ("POST", "/api/jobs/x/retry"),
            ("DELETE", "/api/media/abc"),
            ("GET", "/missing"),
            ("PATCH", "/api/jobs"),
        ]
        for method, path in requests:
            await world.client.request(method, path)
    assert [route_template(scope) for scope in scopes] == [
        "/healthz",
        "/readyz",
        "/metrics",
        "/img/:sig/:opts/*",
        "/original/:sig/*",
        "/thumb/:sig/*",
        "/stream/:hash/*",
        "/api/key/:hash",
        "/api/jobs",
        "/api/jobs/:id",
        "/api/jobs/:id/retry",
        "/api/media/:hash",
        "unmatched",
        "/api/jobs",
    ]


# --- the error table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "error", "status", "body"),
    [
        pytest.param(
            Family.IMAGE,
            InvalidImageOptions("bad options: x"),
            400,
            "bad options: x",
            id="img-options",
        ),
        pytest.param(
            Family.IMAGE,
            UnsupportedFormat("unsupported output format"),
            400,
            "unsupported output format",
            id="img-format",
        ),
        pytest.param(
            Family.IMAGE,
            InvalidStorageKey("missing source key"),
            400,
            "missing source key",
            id="img-key",
        ),
        pytest.param(Family.IMAGE, InvalidSignature("x"), 403, "invalid signature", id="img-sig"),
        pytest.param(
            Family.IMAGE,
            SourceFetchFailed(ObjectNotFound("k")),
            404,
            "source image not found",
            id="img-404",
        ),
        pytest.param(
            Family.IMAGE,
            SourceFetchFailed(StorageUnavailable("s3 at 10.0.0.1")),
            502,
            "source storage unavailable",
            id="img-502",
        ),
        pytest.param(
            Family.IMAGE,
            UnprocessableImage("unprocessable source image"),
            422,
            "unprocessable source image",
            id="img-422",
        ),
        pytest.param(
            Family.IMAGE,
            ProcessingFailed("vips: encoder x"),
            500,
            "image processing failed",
            id="img-500",
        ),
        pytest.param(Family.OBJECT, ObjectNotFound("k"), 404, "not found", id="object-404"),
        pytest.param(
            Family.OBJECT,
            StorageUnavailable("s3 down"),
            502,
            "storage unavailable",
            id="object-502",
        ),
        pytest.param(
            Family.STREAM,
            UnsupportedFormat("unsupported file type"),
            400,
            "unsupported file type",
            id="stream-type",
        ),
        pytest.param(
            Family.STREAM, InvalidHash("hash must be x"), 400, "hash must be x", id="stream-hash"
        ),
        pytest.param(
            Family.KEY, Unauthorized("missing bearer token"), 401, "Unauthorized", id="key-401"
        ),
        pytest.param(Family.KEY, InvalidKeyToken("token expired"), 403, "Forbidden", id="key-403"),
        pytest.param(Family.KEY, KeyNotFound("x"), 404, "Not Found", id="key-404"),
        pytest.param(Family.KEY, KeyUnwrapFailed("x"), 500, "Internal Server Error", id="key-500"),
        pytest.param(
            Family.KEY, DatabaseUnavailable("pg"), 503, "Service Unavailable", id="key-503"
        ),
        pytest.param(Family.KEY, RuntimeError("bug"), 500, "Internal Server Error", id="key-bug"),
        pytest.param(
            Family.JOBS,
            InvalidJobRequest("hash is required"),
            400,
            "hash is required",
            id="jobs-400",
        ),
        pytest.param(
            Family.JOBS, SourceMissing("x"), 400, "source object not found", id="jobs-source"
        ),
        pytest.param(
            Family.JOBS,
            SourceTooLarge(4),
            413,
            "source file exceeds MAX_FILE_SIZE (4 bytes)",
            id="jobs-413",
        ),
        pytest.param(
            Family.JOBS,
            UnsafeDestination("h", "private"),
            400,
            "callback_url must not point to a private or loopback address",
            id="jobs-ssrf",
        ),
        pytest.param(
            Family.JOBS,
            UnresolvableDestination("h", "nx"),
            400,
            "callback_url host could not be resolved",
            id="jobs-dns",
        ),
        pytest.param(Family.JOBS, JobNotFound("x"), 404, "job not found", id="jobs-404"),
        pytest.param(
            Family.JOBS,
            NotRetryable("only failed jobs can be retried"),
            409,
            "only failed jobs can be retried",
            id="jobs-409",
        ),
        pytest.param(
            Family.JOBS,
            DatabaseUnavailable("pg at 10.0.0.5"),
            503,
            "database unavailable",
            id="jobs-db",
        ),
        pytest.param(
            Family.JOBS, QueueUnavailable("redis"), 503, "queue unavailable", id="jobs-queue"
        ),
        pytest.param(
            Family.JOBS, StorageUnavailable("s3"), 503, "storage unavailable", id="jobs-storage"
        ),
        pytest.param(Family.JOBS, BodyTooLarge(), 413, "request body too large", id="jobs-body"),
        pytest.param(
            Family.JOBS, ValueError("secret internals"), 500, "Internal Server Error", id="jobs-bug"
        ),
    ],
)
def test_error_table(family: Family, error: Exception, status: int, body: str) -> None:
    scope: Scope = {"type": "http", "method": "GET", "path": "/x"}
    response = error_response(family, error, scope)
    assert response.status_code == status
    if family is Family.KEY:
        assert (bytes(response.body).decode(), response.headers["content-type"]) == (
            body,
            "text/plain; charset=UTF-8",
        )
    else:
        assert response.body == b'{"message":"' + body.encode() + b'"}'


def test_head_errors_have_no_body() -> None:
    scope: Scope = {"type": "http", "method": "HEAD", "path": "/x"}
    response = error_response(Family.OBJECT, ObjectNotFound("k"), scope)
    assert (response.status_code, response.body) == (404, b"")


async def test_contract_templates_are_the_route_tables() -> None:
    """The imgproxy prefix is checked against CONTRACT_TEMPLATES: it must be the route
    table's own list."""
    async with memory_world(http={"dashboard_enabled": True}) as world:
        assert isinstance(world.app, Starlette)
        templates = [route.path for route in world.app.routes if isinstance(route, Route)]
    assert tuple(templates) == CONTRACT_TEMPLATES


def test_a_matching_route_names_itself_in_the_scope() -> None:
    """Metrics and span names read the template from ``scope["route"]``; Starlette's
    router sets it only from 1.7 on, so the route sets it itself."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    route = RawPathRoute("/api/jobs/:id", {"GET": app}, templates=["/api/jobs/:id"])
    scope: Scope = {"type": "http", "path": "/api/jobs/7", "raw_path": b"/api/jobs/7"}
    match, child = route.matches(scope)
    assert match is Match.FULL
    assert child["route"] is route
    assert route_template({**child}) == "/api/jobs/:id"
