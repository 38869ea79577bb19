"""The operator dashboard at ``/dashboard``: one static page, its script and style.

The page holds no data. Its script asks for the API key (a login form), keeps it in the
tab's ``sessionStorage`` and calls the JSON API with it in ``X-API-Key``, so every piece of
data and every action is checked by the same ``ApiKeyMiddleware`` as any API client, and a
cross-site form cannot act: no cookie carries the key and a foreign page cannot set the
header. Everything the script shows goes through ``textContent``, and the
Content-Security-Policy allows only this origin's own script and style (no inline code),
so a job's error text or results cannot run as markup.

Assets are files of this package, served by Vylux itself: the machines it runs on may
have no route to a CDN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vylux_adapters.http.routes.job_views import timestamp
from vylux_core.errors import Unavailable
from vylux_core.jobs.job import JobStatus
from vylux_core.jobs.results import results_json
from vylux_core.jobs.task import ArchivedTask, QueueStats
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.security.signing import UrlSigner
from vylux_core.services import JobService
from vylux_core.services.archived_tasks import ArchivedTasks
from vylux_core.services.finished_jobs import THROUGHPUT_WINDOW, FinishedJobs

# Only this origin's files; media may come from blob: URLs for players that use MSE.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Asset name -> media type; a fixed list, so a path never reaches the file system.
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    # hls.js, vendored (see hls.js.LICENSE): Chromium has no HLS of its own.
    "hls.light.min.js": "text/javascript; charset=utf-8",
    "hls.js.LICENSE": "text/plain; charset=utf-8",
}
# Result keys shown as pictures in the media view.
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif")


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


class DashboardRoutes:
    """``GET /dashboard`` and ``GET /dashboard/static/{name}``; files are read once."""

    def __init__(
        self,
        *,
        queue: TaskQueue | None,
        archived_tasks: ArchivedTasks | None,
        jobs: JobService,
        finished_jobs: FinishedJobs | None = None,
        signer: UrlSigner | None,
    ) -> None:
        self._queue = queue
        self._archived_tasks = archived_tasks
        self._finished_jobs = finished_jobs
        self._jobs = jobs
        self._signer = signer
        self._page = _read("index.html")
        self._assets = {name: _read(name) for name in ASSETS}

    async def page(self, request: Request) -> Response:
        return Response(
            self._page, media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS
        )

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = self._assets.get(name)
        if body is None:
            return Response(
                "no such dashboard asset", status_code=404, media_type="text/plain; charset=utf-8"
            )
        return Response(body, media_type=ASSETS[name], headers=_SECURITY_HEADERS)

    async def queues(self, request: Request) -> Response:
        """Depth per state and the oldest pending task's wait, per queue (as
        ``vylux-cli queue stats --json``), and the jobs finished within the throughput
        window, per queue and in all."""
        rows = [] if self._queue is None else await self._queue.stats()
        finished = {} if self._finished_jobs is None else await self._finished_jobs.in_window()
        views = [queue_stats_view(row) for row in sorted(rows, key=lambda r: r.queue)]
        for view in views:
            view["finished"] = finished_view(finished, view["queue"])
        return JSONResponse(
            {
                "queues": views,
                "finished": finished_view(finished, None),
                "finished_window_seconds": int(THROUGHPUT_WINDOW.total_seconds()),
            },
            headers=_SECURITY_HEADERS,
        )

    async def archived(self, request: Request) -> Response:
        """Tasks that ran out of attempts, newest first (as ``vylux-cli queue archived``)."""
        tasks = await self._archive().archived(None, ARCHIVED_PAGE)
        return JSONResponse(
            {"tasks": [archived_view(item) for item in tasks]}, headers=_SECURITY_HEADERS
        )

    async def requeue(self, request: Request) -> Response:
        requeued = await self._archive().requeue(request.path_params["id"])
        body: dict[str, object] = {"task_id": requeued.task_id}
        if requeued.retry is not None:
            body["retried_as"] = [job.id for job in requeued.retry.jobs]
        return JSONResponse(body, headers=_SECURITY_HEADERS)

    async def delete_archived(self, request: Request) -> Response:
        params = request.path_params
        await self._archive().delete(params["queue"], params["id"])
        return Response(status_code=204, headers=_SECURITY_HEADERS)

    async def media(self, request: Request) -> Response:
        """What a job produced, as links the page can open: the HLS master playlist
        under ``/stream`` and every image rendition (cover, preview, thumbnails) as a
        signed ``/thumb`` URL."""
        job = await self._jobs.get(request.path_params["id"])
        keys = sorted(set(_result_keys(results_json(job.results))))
        images = [key for key in keys if key.lower().endswith(_IMAGE_SUFFIXES)]
        body: dict[str, object] = {"job_id": job.id, "hash": job.hash, "hls": None, "images": []}
        if any(key.endswith("/master.m3u8") for key in keys):
            body["hls"] = f"/stream/{job.hash}/master.m3u8"
        if self._signer is not None:
            signer = self._signer
            body["images"] = [
                {"key": key, "url": f"/thumb/{signer.sign_thumb(key)}/{key}"} for key in images
            ]
        return JSONResponse(body, headers=_SECURITY_HEADERS)

    def _archive(self) -> ArchivedTasks:
        if self._archived_tasks is None:
            raise Unavailable("this server has no queue to inspect")
        return self._archived_tasks


# Per queue; the page lists these (as the CLI's default --limit).
ARCHIVED_PAGE = 100


def archived_view(
    item: ArchivedTask, when: Callable[[datetime], str] = timestamp
) -> dict[str, object]:
    """One archived task; ``when`` writes its archive time (the CLI reads it as text)."""
    return {
        "task_id": item.task.id, "queue": item.task.queue, "type": item.task.type,
        "retried": item.retried, "archived_at": when(item.archived_at),
        "last_error": item.last_error,
    }  # fmt: skip


QUEUE_STATES = ("pending", "active", "scheduled", "retry", "archived")


def queue_stats_view(row: QueueStats) -> dict[str, object]:
    """One queue's counts; the oldest pending age is null when nothing is pending."""
    view: dict[str, object] = {"queue": row.queue}
    view.update({state: getattr(row, state) for state in QUEUE_STATES})
    view["oldest_pending_age_seconds"] = row.oldest_pending_age_seconds if row.pending else None
    return view


FINISHED_STATUSES = tuple(status for status in JobStatus if status.is_terminal)


def finished_view(counts: Mapping[tuple[str, JobStatus], int], queue: object) -> dict[str, int]:
    """Finished jobs per terminal status, of ``queue`` or (None) of every queue."""
    return {
        status.value: sum(
            count for (name, got), count in counts.items()
            if got is status and (queue is None or name == queue)
        )
        for status in FINISHED_STATUSES
    }  # fmt: skip


def _result_keys(results: object) -> list[str]:
    """Every storage key named in a job's results JSON (``key``, ``master_playlist``, at
    any depth: a ``video:full`` job nests its stages' results)."""
    found: list[str] = []
    if isinstance(results, dict):
        for name, value in results.items():
            if name in ("key", "master_playlist") and isinstance(value, str):
                found.append(value)
            else:
                found += _result_keys(value)
    elif isinstance(results, list):
        for value in results:
            found += _result_keys(value)
    return found
