"""``/openapi.json`` documents the imgproxy route family as it answers: the served
templates, the info schema, and schemathesis cases (signed where positive) checked
against the document on the production app."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import schemathesis
from jsonschema import Draft202012Validator
from schemathesis import APIOperation, Case
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from tests.reliability.embedded_server import EmbeddedServer
from tests.support.schema_cases import for_each_case
from vylux_adapters.http.openapi import openapi_path
from vylux_core.imgproxy.url import ImgproxySigner

EXAMPLES = int(os.environ.get("VYLUX_SCHEMATHESIS_EXAMPLES", "100")) // 4 or 1
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Half the positive cases name these instead of what was generated, so the answers
# behind the refusals (200 with each format, 304, the info JSON) are checked too.
MEANINGFUL = (
    "rs:fill:30:20/plain/photos/a.jpg@png",
    "w:20/plain/photos/b.png",
    "w:16/f:tiff/plain/photos/a.jpg",
    "plain/photos/a.jpg",
    "cb:1/plain/photos/b.png",
)
MEANINGFUL_INFO = (
    "plain/photos/a.jpg",
    "cb:1/plain/photos/b.png",
    "exp:99999999999/plain/photos/r.jpg",
    "cGhvdG9zL2EuanBn",  # base64url("photos/a.jpg")
)


def signer_of(server: EmbeddedServer) -> ImgproxySigner:
    settings = server.config.imgproxy
    assert settings is not None
    return ImgproxySigner(pairs=settings.key_pairs)


async def document_of(server: EmbeddedServer) -> dict[str, Any]:
    response = await server.client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def vylux_app(server: EmbeddedServer) -> Starlette:
    """The router under the outer middleware (tracing) of the production app."""
    app: object = server.app
    while not isinstance(app, Starlette):
        app = app._app  # type: ignore[attr-defined]
    return app


async def test_the_document_lists_every_served_imgproxy_operation(server: EmbeddedServer) -> None:
    document = await document_of(server)
    served = {
        (openapi_path(route.path), method.lower())
        for route in vylux_app(server).routes
        for method in route.allowed
        if route.path.startswith("/imgproxy/")
    }
    # Vylux's own info form is a signed path like a rendition's: the rendition route
    # answers it, and the document lists it on its own for its answer's schema.
    served |= {("/imgproxy/{sig}/info/{path}", method) for method in ("get", "head")}
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        if path.startswith("/imgproxy/")
        for method in item
    }
    assert served == documented
    assert len(served) == 6


async def test_info_answers_match_the_documented_schema(server: EmbeddedServer) -> None:
    document = await document_of(server)
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/ImgproxyInfo", "components": document["components"]}
    )
    for source in ("photos/a.jpg", "photos/b.png", "photos/r.jpg"):
        path = f"/info/plain/{source}"
        response = await server.client.get(f"/imgproxy/{signer_of(server).sign(path)}{path}")
        assert response.status_code == 200
        info = response.json()
        validator.validate(info)
        assert set(info) == set(document["components"]["schemas"]["ImgproxyInfo"]["required"])


def _cases(operation: APIOperation, mode: GenerationMode) -> list[Case]:
    found: list[Case] = []
    for_each_case(operation, mode, EXAMPLES, found.append)
    return found


def _half(value: object) -> bool:
    return sum(map(ord, str(value))) % 2 == 0


def _nudge(case: Case, signer: ImgproxySigner) -> None:
    """A positive case names a real source half the time, and is always signed."""
    params = case.path_parameters or {}
    info = "/info/" in case.path
    if _half(params.get("path")):
        meaningful = MEANINGFUL_INFO if info else MEANINGFUL
        params["path"] = meaningful[len(str(params["path"])) % len(meaningful)]
        if case.headers and "If-None-Match" in case.headers and _half(case.headers):
            case.headers["If-None-Match"] = "*"
    signed = "/" + str(params["path"])
    if info and "/{sig}/info/" in case.path:
        signed = "/info" + signed
    params["sig"] = signer.sign(signed)


async def test_schemathesis_cases_answer_as_documented(server: EmbeddedServer) -> None:
    document = await document_of(server)
    schema = schemathesis.openapi.from_dict(document)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith("/imgproxy/")
    ]
    assert len(operations) == 6
    signer = signer_of(server)
    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _cases(operation, mode):
                if mode is GenerationMode.POSITIVE:
                    _nudge(case, signer)
                request = case.as_transport_kwargs(base_url="http://vylux.test")
                response = await server.client.request(
                    request["method"], request["url"], headers=request.get("headers")
                )
                statuses[(operation.label, response.status_code)] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as failure:
                    failures.append(f"{operation.label} [{mode}] {request['url']}: {failure}")
    assert not failures, "\n".join(failures[:10])
    reached = {
        ("GET /imgproxy/{sig}/{path}", 200),
        ("GET /imgproxy/{sig}/{path}", 403),
        ("GET /imgproxy/{sig}/info/{path}", 200),
        ("GET /imgproxy/info/{sig}/{path}", 200),
        ("HEAD /imgproxy/{sig}/{path}", 200),
    }
    assert reached <= set(statuses), (reached - set(statuses), statuses)
