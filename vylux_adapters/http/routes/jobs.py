"""The jobs and cleanup API: ``/api/jobs``, ``/api/jobs/{id}[/retry|/cancel]``,
``/api/media/{hash}``."""

from __future__ import annotations

from opentelemetry import propagate
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vylux_adapters.http.routes.job_views import job_body, page_body, retry_body, submission_body
from vylux_adapters.http.strict_json import parse_json_body
from vylux_adapters.webhooks.destination import Resolver, check_callback_destination
from vylux_core.errors import InvalidJobQuery
from vylux_core.jobs.listing import parse_job_query
from vylux_core.jobs.request import decode_job_request
from vylux_core.services import JobService


class JobRoutes:
    """Auth and rate limits are middleware around these; the handlers only decode,
    call :class:`JobService` and encode."""

    def __init__(
        self,
        *,
        jobs: JobService,
        allow_private_callbacks: bool,
        resolve_timeout: float,
        resolver: Resolver | None = None,
    ) -> None:
        self._jobs = jobs
        self._allow_private_callbacks = allow_private_callbacks
        self._resolve_timeout = resolve_timeout
        self._resolver = resolver

    async def create(self, request: Request) -> Response:
        job_request = decode_job_request(parse_json_body(await request.body()))
        if job_request.callback_url and not self._allow_private_callbacks:
            await check_callback_destination(
                job_request.callback_url,
                resolve_timeout=self._resolve_timeout,
                resolver=self._resolver,
            )
        submission = await self._jobs.create(job_request, trace_carrier=trace_carrier())
        return JSONResponse(
            submission_body(submission), status_code=202 if submission.created else 200
        )

    async def get(self, request: Request) -> Response:
        job = await self._jobs.get(request.path_params["id"])
        return JSONResponse(job_body(job))

    async def list_jobs(self, request: Request) -> Response:
        query = parse_job_query(single_values(request))
        return JSONResponse(page_body(await self._jobs.list_jobs(query)))

    async def cancel(self, request: Request) -> Response:
        job = await self._jobs.cancel(request.path_params["id"])
        return JSONResponse(job_body(job))

    async def retry(self, request: Request) -> Response:
        retry = await self._jobs.retry(request.path_params["id"], trace_carrier=trace_carrier())
        return JSONResponse(retry_body(retry), status_code=202)

    async def purge(self, request: Request) -> Response:
        await self._jobs.purge(request.path_params["hash"])
        return Response(status_code=204)


def single_values(request: Request) -> dict[str, str]:
    """Query parameters by name; a repeated one is refused rather than half-used."""
    params = request.query_params
    for name in params:
        if len(params.getlist(name)) > 1:
            raise InvalidJobQuery(f"query parameter {name!r} is given more than once")
    return dict(params)


def trace_carrier() -> dict[str, str]:
    """W3C trace context of the current span, for the worker to continue the trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
