"""schemathesis against ``/openapi.json``: no 5xx and every response as documented.

Every operation of the document the app serves gets positive and negative cases
(``VYLUX_SCHEMATHESIS_EXAMPLES`` each, 100 by default) on the in-memory world, sent
with the valid API key, and checked for: no server error, a documented status, the
documented content type and headers, a body matching its schema, and schema-invalid
input refused with a 4xx. Cases are sent through httpx into the ASGI app on this
test's own event loop (schemathesis' own ASGI transport runs the app on a loop in
another thread, where the memory world's background writes would be orphaned).

Nudges get cases past the first refusal, so the handlers behind it answer too: a
positive case on ``/img``, ``/original`` or ``/thumb`` carries a correct signature
for whatever key it names; half the positive delivery and ``/api/key`` cases name a
stored object or key (with a valid token), and half the ``/api/jobs/{id}`` cases a
submitted job. Against a real ``vylux-cli serve`` the same checks run from the
command line (docs/reliability.md, "schemathesis").
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
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

from tests.e2e.http_world import API, BASE, World, memory_world
from tests.support.schema_cases import for_each_case
from vylux_adapters.http import RateLimit
from vylux_adapters.memory import fake_image
from vylux_core.errors import InvalidInput
from vylux_core.images.options import parse_image_options
from vylux_core.images.path import parse_image_request_path
from vylux_core.media.storage_keys import video_key
from vylux_core.security.signing import canonical_object_key

pytestmark = [pytest.mark.reliability]

EXAMPLES = int(os.environ.get("VYLUX_SCHEMATHESIS_EXAMPLES", "100"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Rate limits are tested on their own (test_hostile_requests.py); here they would
# turn every case after the 30th into a 429 before the handler ran.
UNLIMITED = RateLimit(limit=10**9)
SEED_IMAGE = "seed/photo.png"
SEED_THUMB = "images/seed/thumb.webp"
SEED_HASH = "seed-movie"
SEED_PLAYLIST = "index.m3u8"
MEANINGFUL_OPTIONS = ("w16", "h8_q50", "w0_h0")
# The seeds are shorter than 999999 bytes: the last one is a 416.
MEANINGFUL_RANGES = ("bytes=0-3", "bytes=2-", "bytes=-5", "bytes=999999-")


class Driver:
    """Sends cases into the world's app and collects what came back."""

    def __init__(self, runner: asyncio.Runner, world: World) -> None:
        self.runner = runner
        self.world = world
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.job_ids: list[str] = []

    def send(self, case: Case, mode: GenerationMode) -> None:
        if mode is GenerationMode.POSITIVE:
            self._name_a_stored_object(case)
            self._sign(case)
        self._name_a_job(case)
        request = case.as_transport_kwargs(base_url=BASE)
        headers = dict(request.get("headers", {}))
        # The valid key, except where a negative case left the header out on purpose.
        if mode is GenerationMode.POSITIVE or "X-API-Key" in headers:
            headers.update(API)
        response = self.runner.run(
            self.world.client.request(
                request["method"],
                request["url"],
                headers=headers,
                params=request.get("params"),
                content=_body(request),
            )
        )
        label = case.operation.label
        self.statuses[(label, response.status_code)] += 1
        if label == "POST /api/jobs" and response.status_code == 202:
            self.job_ids.append(response.json()["job_id"])
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # Failure or FailureGroup
            self.failures.append(f"{label} [{mode}] {request['url']}: {failure}")

    def _sign(self, case: Case) -> None:
        # schemathesis stores path parameters percent-encoded, as they go on the wire:
        # exactly the raw remainder the app decodes once.
        params = case.path_parameters or {}
        signer = self.world.signer
        try:
            if case.path.startswith("/img/"):
                key, fmt = parse_image_request_path(params["source"])
                params["sig"] = signer.sign_image(parse_image_options(params["opts"]), key, fmt)
            elif case.path.startswith("/original/"):
                params["sig"] = signer.sign_original(canonical_object_key(params["key"]))
            elif case.path.startswith("/thumb/"):
                params["sig"] = signer.sign_thumb(canonical_object_key(params["key"]))
        except InvalidInput:
            pass  # the request is refused before the signature matters

    def _name_a_job(self, case: Case) -> None:
        params = case.path_parameters or {}
        if "id" in params and self.job_ids and _half(params["id"]):
            params["id"] = self.job_ids[len(self.statuses) % len(self.job_ids)]

    def _name_a_stored_object(self, case: Case) -> None:
        # Generated keys never exist: without this only refusals and 404s are checked,
        # not the 200, 206, 304 and 416 answers with their bodies and headers.
        params = case.path_parameters or {}
        if not params or not _half(params):
            return
        if case.path.startswith("/img/"):
            extension = str(params["source"]).rpartition(".")[2]
            params["source"] = f"{quote(SEED_IMAGE, safe='')}.{extension}"
            # Most generated options are out of range (the other half keeps them all).
            if not _parses(params["opts"]):
                choice = len(str(params["opts"])) % len(MEANINGFUL_OPTIONS)
                params["opts"] = MEANINGFUL_OPTIONS[choice]
            _mean_something(case, "If-None-Match", ("*",))
        elif case.path.startswith("/api/key/"):
            params["hash"] = SEED_HASH
            headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            token = self.world.key_token(SEED_HASH)
            case.headers = {**headers, "Authorization": f"Bearer {token}"}
        elif case.path.startswith(("/original/", "/thumb/", "/stream/")):
            if case.path.startswith("/original/"):
                params["key"] = quote(SEED_IMAGE, safe="")
            elif case.path.startswith("/thumb/"):
                params["key"] = quote(SEED_THUMB, safe="")
            else:
                params["hash"], params["file_path"] = SEED_HASH, SEED_PLAYLIST
            _mean_something(case, "Range", MEANINGFUL_RANGES)


def _mean_something(case: Case, header: str, meaningful: tuple[str, ...]) -> None:
    # A generated Range or If-None-Match almost never parses or matches: half of the
    # ones sent become one that does, so 206, 304 and 416 answers come up too.
    value = (case.headers or {}).get(header)
    if case.headers is not None and value is not None and _half(value):
        case.headers[header] = meaningful[len(value) % len(meaningful)]


def _parses(options: object) -> bool:
    try:
        parse_image_options(str(options))
    except InvalidInput:
        return False
    return True


def _half(value: object) -> bool:
    """True for about half the values, the same each time (shrinking keeps the nudge)."""
    return sum(map(ord, str(value))) % 2 == 0


def _body(request: dict[str, Any]) -> bytes | None:
    if "json" in request:
        return httpx.Request("POST", BASE, json=request["json"]).content
    data = request.get("data")
    return data.encode() if isinstance(data, str) else data


async def _store_seeds(world: World) -> None:
    await world.put_source(SEED_IMAGE, fake_image(64, 48))
    await world.put_media(SEED_THUMB, fake_image(30, 20), content_type="image/webp")
    playlist = b"#EXTM3U\n#EXT-X-ENDLIST\n"
    await world.put_media(video_key(SEED_HASH, SEED_PLAYLIST), playlist, "application/x-mpegurl")
    await world.key_service.content_key_for(SEED_HASH)


@pytest.fixture
def driver() -> Iterator[Driver]:
    limits = {"jobs_rate_limit": UNLIMITED, "key_rate_limit": UNLIMITED}
    with asyncio.Runner() as runner:
        built = memory_world(http={**limits, "key_ip_rate_limit": UNLIMITED})
        world = runner.run(built.__aenter__())
        runner.run(_store_seeds(world))
        try:
            yield Driver(runner, world)
        finally:
            runner.run(built.__aexit__(None, None, None))


def exercise(driver: Driver, operation: APIOperation, mode: GenerationMode) -> None:
    for_each_case(operation, mode, EXAMPLES, lambda case: driver.send(case, mode))


def test_no_server_errors_and_responses_match_the_schema(driver: Driver) -> None:
    document = driver.runner.run(driver.world.client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(driver, operation, mode)

    sent = sum(driver.statuses.values())
    print(f"\nschemathesis: {sent} requests over {len(operations)} operations")
    for (label, status), count in sorted(driver.statuses.items()):
        print(f"  {count:5d}  {status}  {label}")
    assert not driver.failures, "\n".join(driver.failures[:20])
    assert not [key for key in driver.statuses if key[1] >= 500]
    # Every operation was reached, and the nudges got cases to the answers behind
    # the refusals.
    assert {label for label, _ in driver.statuses} == {op.label for op in operations}
    reached = {
        ("GET /img/{sig}/{opts}/{source}", 200),
        ("HEAD /img/{sig}/{opts}/{source}", 304),
        ("GET /original/{sig}/{key}", 206),
        ("HEAD /thumb/{sig}/{key}", 200),
        ("GET /stream/{hash}/{file_path}", 416),
        ("GET /api/key/{hash}", 200),
        ("GET /api/jobs/{id}", 200),
    }
    assert reached <= set(driver.statuses), reached - set(driver.statuses)
