"""``vylux-cli jobs``: submit, list, show and cancel jobs, and wait for them with a
progress bar."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from vylux_cli.api_client import API_KEY_OPTION, API_OPTION
from vylux_cli.console import console
from vylux_cli.go_duration import parse_go_duration
from vylux_cli.job_backends import JobsBackend, Target, choose_target, open_jobs
from vylux_cli.job_display import print_job, results_views, styled_status
from vylux_cli.operator_errors import run
from vylux_core.jobs.job import JobStatus, JobType
from vylux_core.jobs.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

POLL_SECONDS = 0.5
_TERMINAL = {str(status) for status in JobStatus if status.is_terminal}


class WaitTimedOut(Exception):
    def __init__(self, view: dict[str, Any]) -> None:
        super().__init__("timed out")
        self.view = view


@click.group()
def jobs() -> None:
    """Submit, inspect and wait for jobs (directly, or through a server with --api)."""


def parse_options(assignments: tuple[str, ...], options_json: str | None) -> dict[str, Any]:
    """``--options-json`` as the base, then each ``key=value`` set on top of it.

    Values are JSON when they parse (``320``, ``true``, ``[1,2]``), text otherwise
    (``webp``); dotted keys nest (``cover.timestamp_sec=2``).
    """
    options: dict[str, Any] = {}
    if options_json is not None:
        try:
            loaded = json.loads(options_json)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--options-json") from exc
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--options-json")
        options = loaded
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        path = key.strip().split(".")
        if not separator or not all(path):
            raise click.BadParameter(f"{assignment!r} is not key=value", param_hint="--option")
        _set_path(options, path, _json_or_text(text), assignment)
    return options


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _set_path(options: dict[str, Any], path: list[str], value: Any, assignment: str) -> None:
    target = options
    for part in path[:-1]:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise click.BadParameter(
                f"{assignment!r}: {part!r} already holds a value, not an object",
                param_hint="--option",
            )
        target = child
    target[path[-1]] = value


_TIMEOUT_OPTION = click.option(
    "--timeout", default="1h", show_default=True,
    help="How long to wait, e.g. 90s, 30m, 2h (0: no limit).",
)  # fmt: skip


@jobs.command()
@click.option(
    "--type", "-t", "job_type", required=True, type=click.Choice([str(t) for t in JobType]),
    help="The job type.",
)  # fmt: skip
@click.option("--hash", "media_hash", required=True, help="Media hash (storage prefix).")
@click.option("--source", "-s", required=True, help="Object key in the source store.")
@click.option(
    "--option", "-o", "assignments", multiple=True, metavar="KEY=VALUE",
    help="An option; VALUE is JSON when it parses (width=320, encrypt=true), dotted keys "
    "nest (cover.timestamp_sec=2). Repeatable.",
)  # fmt: skip
@click.option(
    "--options-json", default=None, metavar="JSON",
    help='All options as a JSON object, e.g. \'{"outputs":[{"variant":"sm","width":320}]}\'; '
    "--option values are set on top.",
)  # fmt: skip
@click.option("--callback-url", default="", help="Webhook URL for the final outcome.")
@click.option("--wait", "wait_for_it", is_flag=True, help="Then wait as `jobs wait` does.")
@_TIMEOUT_OPTION
@API_OPTION
@API_KEY_OPTION
def submit(
    job_type: str, media_hash: str, source: str, assignments: tuple[str, ...],
    options_json: str | None, callback_url: str, wait_for_it: bool, timeout: str,
    api_url: str | None, api_key: str | None,
) -> None:  # fmt: skip
    """Submit a job and print its id and whether it is new or an existing one.

    An identical request (same type, hash, source and options) while a job for it is
    queued, processing or completed returns that job instead of a new one.

    Exit codes: 0 submitted (with --wait: the job completed); 1 with --wait the job
    failed, was canceled or the wait timed out; 2 invalid configuration, arguments or
    a request the server refuses (unknown source, bad options, API key); 3 the
    database, queue or API server is unreachable.
    """
    body: dict[str, Any] = {
        "type": job_type, "hash": media_hash, "source": source,
        "options": parse_options(assignments, options_json), "callback_url": callback_url,
    }  # fmt: skip
    wait_seconds = _parse_timeout(timeout)
    target = choose_target(api_url, api_key)
    sys.exit(run(_submit(target, body, wait_seconds if wait_for_it else None)))


async def _submit(target: Target, body: dict[str, Any], wait_seconds: float | None) -> int:
    out = console()
    async with open_jobs(target) as backend:
        answer, created = await backend.submit(body)
        status = str(answer.get("status"))
        job_id = answer.get("job_id")
        if job_id is None:
            # A completed twin: no job id, its results are the answer.
            out.print(f"already completed earlier: hash {escape(str(answer.get('hash')))}")
            for renderable in results_views(body["type"], answer.get("results")):
                out.print(renderable)
            return 0
        verdict = "created" if created else "existing"
        out.print(f"{verdict} job [bold]{escape(str(job_id))}[/] ({styled_status(status)})")
        if wait_seconds is None:
            return 0
        return await _wait_and_report(backend, str(job_id), wait_seconds, out)


@jobs.command()
@click.argument("job_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the job as the API shows it.")
@API_OPTION
@API_KEY_OPTION
def show(job_id: str, as_json: bool, api_url: str | None, api_key: str | None) -> None:
    """Show a job: type, hash, status, progress, callback, error, times and results.

    Exit codes: 0 shown; 1 no such job; 2 invalid configuration or arguments;
    3 the database or API server is unreachable.
    """
    target = choose_target(api_url, api_key)
    view = run(_show(target, job_id))
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False))
    else:
        print_job(console(), view)


async def _show(target: Target, job_id: str) -> dict[str, Any]:
    async with open_jobs(target) as backend:
        return await backend.get(job_id)


@jobs.command()
@click.argument("job_id", metavar="ID")
@_TIMEOUT_OPTION
@API_OPTION
@API_KEY_OPTION
def wait(job_id: str, timeout: str, api_url: str | None, api_key: str | None) -> None:
    """Wait for a job with a live progress bar, then summarise its results.

    Polls the job every half second. For transcodes the summary lists the tracks and
    the master playlist, for video:full the stage statuses, for thumbnails the images.

    Exit codes: 0 the job completed; 1 it failed or was canceled (the error is
    printed), the wait timed out, or the job does not exist; 2 invalid configuration
    or arguments; 3 the database, queue or API server is unreachable.
    """
    wait_seconds = _parse_timeout(timeout)
    target = choose_target(api_url, api_key)
    sys.exit(run(_wait(target, job_id, wait_seconds)))


async def _wait(target: Target, job_id: str, wait_seconds: float) -> int:
    async with open_jobs(target) as backend:
        return await _wait_and_report(backend, job_id, wait_seconds, console())


async def _wait_and_report(
    backend: JobsBackend, job_id: str, wait_seconds: float, out: Console
) -> int:
    errors = console(stderr=True)
    try:
        view = await follow(backend, job_id, wait_seconds, errors)
    except WaitTimedOut as timed_out:
        view = timed_out.view
        errors.print(
            f"Error: gave up after {wait_seconds:g} s: job {escape(job_id)} is still "
            f"{view.get('status')} ({view.get('progress', 0)}%)"
        )
        return 1
    status = str(view.get("status"))
    if status == str(JobStatus.COMPLETED):
        out.print(f"job [bold]{escape(job_id)}[/] {styled_status(status)}")
        for renderable in results_views(view.get("type"), view.get("results")):
            out.print(renderable)
        return 0
    error = escape(str(view.get("error") or "no error recorded"))
    errors.print(f"Error: job {escape(job_id)} {status}: {error}")
    # A failed video:full keeps its stage results: they say which part to retry.
    for renderable in results_views(view.get("type"), view.get("results")):
        out.print(renderable)
    return 1


async def follow(
    backend: JobsBackend, job_id: str, wait_seconds: float, bar_console: Console
) -> dict[str, Any]:
    """Poll until the job is terminal; raises :class:`WaitTimedOut` (0 = no limit)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds if wait_seconds > 0 else None
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TaskProgressColumn(), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(*columns, console=bar_console) as bar:
        task = bar.add_task(f"job {escape(job_id)}", total=100)
        while True:
            view = await backend.get(job_id)
            bar.update(task, completed=int(view.get("progress") or 0), description=_stage(view))
            if view.get("status") in _TERMINAL:
                return view
            if deadline is not None and loop.time() >= deadline:
                raise WaitTimedOut(view)
            pause = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - loop.time())
            await asyncio.sleep(max(pause, 0.0))


def _stage(view: dict[str, Any]) -> str:
    # The API exposes no per-stage progress while a job runs, only status and percent.
    status = str(view.get("status"))
    waiting = " (waiting for a worker)" if status == str(JobStatus.QUEUED) else ""
    return f"{escape(str(view.get('type')))} {styled_status(status)}{waiting}"


def _parse_timeout(text: str) -> float:
    try:
        seconds = parse_go_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from exc
    if seconds < 0:
        raise click.BadParameter("must not be negative", param_hint="--timeout")
    return seconds


@jobs.command("list")
@click.option("--status", type=click.Choice([str(s) for s in JobStatus]), help="Only this status.")
@click.option(
    "--type", "-t", "job_type", type=click.Choice([str(t) for t in JobType]),
    help="Only this job type.",
)  # fmt: skip
@click.option("--hash", "media_hash", default=None, help="Only jobs of this media hash.")
@click.option(
    "--created-after", default=None, metavar="TIME",
    help="Only jobs created after TIME (RFC 3339, e.g. 2026-04-01T08:00:00Z).",
)  # fmt: skip
@click.option(
    "--created-before", default=None, metavar="TIME", help="Only jobs created before TIME."
)
@click.option(
    "--limit", type=click.IntRange(1, MAX_PAGE_SIZE), default=DEFAULT_PAGE_SIZE,
    show_default=True, help="Jobs per page.",
)  # fmt: skip
@click.option("--cursor", default=None, help="Continue after a page (its next_cursor).")
@click.option("--all", "all_pages", is_flag=True, help="Follow next_cursor to the last page.")
@click.option(
    "--json", "as_json", is_flag=True,
    help='Print {"jobs": [...], "next_cursor": ...} as GET /api/jobs answers it.',
)  # fmt: skip
@API_OPTION
@API_KEY_OPTION
def list_jobs(
    status: str | None, job_type: str | None, media_hash: str | None,
    created_after: str | None, created_before: str | None, limit: int, cursor: str | None,
    all_pages: bool, as_json: bool, api_url: str | None, api_key: str | None,
) -> None:  # fmt: skip
    """List jobs, newest first, one page at a time (or every page with --all).

    Exit codes: 0 listed (also when nothing matches); 2 invalid configuration or
    arguments; 3 the database or API server is unreachable.
    """
    given = {
        "status": status, "type": job_type, "hash": media_hash, "created_after": created_after,
        "created_before": created_before, "limit": str(limit), "cursor": cursor,
    }  # fmt: skip
    params = {name: value for name, value in given.items() if value is not None}
    target = choose_target(api_url, api_key)
    page = run(_list(target, params, all_pages))
    if as_json:
        click.echo(json.dumps(page, ensure_ascii=False))
        return
    _print_page(console(), page)


async def _list(target: Target, params: dict[str, str], all_pages: bool) -> dict[str, Any]:
    async with open_jobs(target) as backend:
        page = await backend.list_jobs(params)
        listed = list(page["jobs"])
        while all_pages and page["next_cursor"] is not None:
            page = await backend.list_jobs({**params, "cursor": page["next_cursor"]})
            listed += page["jobs"]
        return {"jobs": listed, "next_cursor": page["next_cursor"]}


def _print_page(out: Console, page: dict[str, Any]) -> None:
    if not page["jobs"]:
        out.print("no jobs")
    else:
        table = Table()
        for column in ("job", "type", "hash", "status", "progress", "created"):
            table.add_column(column, overflow="fold")
        for view in page["jobs"]:
            table.add_row(
                escape(str(view["job_id"])), escape(str(view["type"])),
                escape(str(view["hash"])), styled_status(str(view["status"])),
                f"{view['progress']}%", escape(str(view["created_at"])),
            )  # fmt: skip
        out.print(table)
    if page["next_cursor"] is not None:
        out.print(f"more: --cursor {escape(page['next_cursor'])}")


@jobs.command()
@click.argument("job_id", metavar="ID")
@API_OPTION
@API_KEY_OPTION
def cancel(job_id: str, api_url: str | None, api_key: str | None) -> None:
    """Cancel a queued or processing job.

    A queued job's task is removed; a running attempt is stopped within a heartbeat
    (its FFmpeg/packager processes are killed and what it wrote is deleted). The
    job's callback gets one final webhook with status canceled. Canceling a
    canceled job again changes nothing.

    Exit codes: 0 the job is canceled; 1 no such job, or it already completed or
    failed; 2 invalid configuration or arguments; 3 the database, queue or API
    server is unreachable.
    """
    target = choose_target(api_url, api_key)
    view = run(_cancel(target, job_id))
    console().print(f"job [bold]{escape(job_id)}[/] {styled_status(str(view.get('status')))}")


async def _cancel(target: Target, job_id: str) -> dict[str, Any]:
    async with open_jobs(target) as backend:
        return await backend.cancel(job_id)
