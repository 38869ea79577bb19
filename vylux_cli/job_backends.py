"""Where the ``jobs`` and ``media`` commands send their work: straight to the configured
database, queue and stores (the default), or to a running server's API (``--api``).

Both back ends answer in the JSON shapes of the jobs API, so the commands
print the same thing either way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from vylux_adapters.http.routes.job_views import job_body, page_body, submission_body
from vylux_adapters.webhooks.destination import check_callback_destination
from vylux_cli import bootstrap
from vylux_cli.api_client import ApiClient, ApiTarget, api_target, open_api
from vylux_cli.command_config import load_config
from vylux_cli.config import Config
from vylux_cli.operator_errors import RejectedError
from vylux_core.errors import UnsafeDestination
from vylux_core.jobs.listing import parse_job_query
from vylux_core.jobs.request import decode_job_request


class JobsBackend(Protocol):
    async def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The submission answer and whether a new job was created."""
        ...

    async def get(self, job_id: str) -> dict[str, Any]:
        """The job as ``GET /api/jobs/{id}`` shows it; raises ``JobNotFound``/OperatorError."""
        ...

    async def purge(self, media_hash: str) -> int | None:
        """Remove everything of the hash; how many jobs went, when known."""
        ...

    async def list_jobs(self, params: dict[str, str]) -> dict[str, Any]:
        """One page as ``GET /api/jobs`` answers it for these query parameters."""
        ...

    async def cancel(self, job_id: str) -> dict[str, Any]:
        """The cancelled job; raises ``JobNotFound``/``JobAlreadyFinished``/OperatorError."""
        ...


class DirectJobs:
    """The services the server itself would call, on a runtime of this process."""

    def __init__(self, runtime: bootstrap.Runtime) -> None:
        self._runtime = runtime

    async def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        request = decode_job_request(body)
        config = self._runtime.config
        # The same early refusal the API gives: an operator typo pointing the webhook
        # at an internal address should not wait for the worker to find out.
        if request.callback_url and not config.allow_private_callbacks:
            try:
                await check_callback_destination(request.callback_url)
            except UnsafeDestination as exc:
                raise RejectedError(f"callback_url refused: {exc}") from exc
        submission = await self._runtime.job_service.create(request)
        return submission_body(submission), submission.created

    async def get(self, job_id: str) -> dict[str, Any]:
        return job_body(await self._runtime.job_service.get(job_id))

    async def purge(self, media_hash: str) -> int | None:
        jobs = await self._runtime.jobs.list_by_hash(media_hash)
        await self._runtime.job_service.purge(media_hash)
        return len(jobs)

    async def list_jobs(self, params: dict[str, str]) -> dict[str, Any]:
        return page_body(await self._runtime.job_service.list_jobs(parse_job_query(params)))

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return job_body(await self._runtime.job_service.cancel(job_id))


class ApiJobs:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    async def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        # Validated here too: a typo is reported with the same message, without a
        # round trip, and the server's 400s are left for what only it can know.
        decode_job_request(body)
        return await self._api.submit(body)

    async def get(self, job_id: str) -> dict[str, Any]:
        return await self._api.get_job(job_id)

    async def purge(self, media_hash: str) -> int | None:
        await self._api.purge(media_hash)
        return None

    async def list_jobs(self, params: dict[str, str]) -> dict[str, Any]:
        parse_job_query(params)  # the same messages as the server, without a round trip
        return await self._api.list_jobs(params)

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._api.cancel_job(job_id)


Target = Config | ApiTarget


def choose_target(api_url: str | None, api_key: str | None) -> Target:
    """Resolved before the event loop starts, so configuration errors exit 2 cleanly."""
    return api_target(api_url, api_key) if api_url else load_config()


@asynccontextmanager
async def open_jobs(target: Target) -> AsyncIterator[JobsBackend]:
    """The API back end for an :class:`ApiTarget`, else a runtime on the configuration."""
    if isinstance(target, ApiTarget):
        async with open_api(target) as api:
            yield ApiJobs(api)
        return
    async with bootstrap.open_runtime(target, migrate_schema=False) as runtime:
        yield DirectJobs(runtime)
