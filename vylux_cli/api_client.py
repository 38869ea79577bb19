"""The jobs and media endpoints of a running server, for the commands' ``--api`` option."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, NoReturn
from urllib.parse import quote

import click
import httpx
from attrs import frozen

from vylux_cli.command_config import load_config
from vylux_cli.operator_errors import OperatorError, RejectedError, UnreachableError

TransportFactory = Callable[[], AbstractAsyncContextManager[httpx.AsyncBaseTransport]]


@frozen
class ApiHooks:
    """Passed as the click context ``obj`` by tests: the transport ``--api`` uses.

    The factory is entered inside the command's own event loop, so an in-process ASGI
    app (and the database engine behind it) lives in the loop that calls it.
    """

    transport: TransportFactory


API_OPTION = click.option(
    "--api", "api_url", metavar="URL", envvar="VYLUX_API_URL", default=None,
    help="Talk to a running server at URL (env VYLUX_API_URL) instead of the "
    "configured database, queue and stores directly.",
)  # fmt: skip
API_KEY_OPTION = click.option(
    "--api-key", envvar="VYLUX_API_KEY", default=None,
    help="X-API-Key for --api (env VYLUX_API_KEY; default: API_KEY of the configuration).",
)  # fmt: skip


class ApiClient:
    """The jobs and media endpoints of a Vylux server."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """POST /api/jobs; the body and whether a new job was created (202)."""
        response = await self._client.post("/api/jobs", json=body)
        data = _json_or_fail(response, expected=(200, 202))
        return data, response.status_code == 202

    async def get_job(self, job_id: str) -> dict[str, Any]:
        response = await self._client.get(f"/api/jobs/{quote(job_id, safe='')}")
        return _json_or_fail(response, expected=(200,))

    async def list_jobs(self, params: dict[str, str]) -> dict[str, Any]:
        """GET /api/jobs with these query parameters: one page."""
        response = await self._client.get("/api/jobs", params=params)
        return _json_or_fail(response, expected=(200,))

    async def cancel_job(self, job_id: str) -> dict[str, Any]:
        response = await self._client.post(f"/api/jobs/{quote(job_id, safe='')}/cancel")
        return _json_or_fail(response, expected=(200,))

    async def purge(self, media_hash: str) -> None:
        # The route takes the rest of the path, so slashes in a hash stay slashes.
        response = await self._client.delete(f"/api/media/{quote(media_hash, safe='/')}")
        if response.status_code != 204:
            _fail(response)


@frozen
class ApiTarget:
    """A server to talk to, resolved before the event loop starts (config errors exit 2
    there, and the click context is at hand)."""

    url: str
    key: str
    transport: TransportFactory | None = None


def api_target(api_url: str, api_key: str | None) -> ApiTarget:
    """``api_url`` with the key from ``--api-key`` or else from the configuration."""
    hooks = click.get_current_context().find_object(ApiHooks)
    key = api_key or load_config().secrets.api_key
    return ApiTarget(api_url, key, hooks.transport if hooks is not None else None)


@asynccontextmanager
async def open_api(target: ApiTarget) -> AsyncIterator[ApiClient]:
    headers = {"X-API-Key": target.key, "User-Agent": "vylux-cli"}
    if target.transport is None:
        async with httpx.AsyncClient(base_url=target.url, headers=headers, timeout=30.0) as client:
            yield ApiClient(client)
        return
    async with (
        target.transport() as transport,
        httpx.AsyncClient(base_url=target.url, headers=headers, transport=transport) as client,
    ):
        yield ApiClient(client)


def _json_or_fail(response: httpx.Response, *, expected: tuple[int, ...]) -> dict[str, Any]:
    if response.status_code not in expected:
        _fail(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise OperatorError(f"unexpected answer from the API: {response.text[:200]}")
    return data


def _fail(response: httpx.Response) -> NoReturn:
    try:
        message = str(response.json().get("message", response.text))
    except ValueError:
        message = response.text.strip() or response.reason_phrase
    status = response.status_code
    text = f"API answered {status}: {message}"
    if status == 401:
        raise RejectedError(f"{text} (check --api-key / API_KEY)")
    if status in (400, 413):
        raise RejectedError(text)
    if status in (502, 503, 504):
        raise UnreachableError(text)
    raise OperatorError(text)
