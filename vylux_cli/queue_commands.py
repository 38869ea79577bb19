"""``vylux-cli queue``: queue depth per state, and the tasks that ran out of attempts."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
from rich.markup import escape
from rich.table import Table

from vylux_adapters.http.dashboard import QUEUE_STATES, archived_view, queue_stats_view
from vylux_cli import bootstrap
from vylux_cli.command_config import load_config
from vylux_cli.config import Config
from vylux_cli.console import console
from vylux_cli.operator_errors import RejectedError, run
from vylux_core.errors import VyluxError
from vylux_core.jobs.task import ArchivedTask, QueueStats

_STATES = QUEUE_STATES


@click.group()
def queue() -> None:
    """Inspect the task queue of the configured backend (Redis or the SQL queue)."""


_JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)


@queue.command()
@_JSON_OPTION
def stats(as_json: bool) -> None:
    """Tasks per queue and state, and how long the oldest pending task has waited.

    Exit codes: 0 shown; 2 invalid configuration; 3 the queue backend is unreachable.
    """
    rows = run(_stats(load_config()))
    if as_json:
        click.echo(
            json.dumps([queue_stats_view(row) for row in sorted(rows, key=lambda r: r.queue)])
        )
        return
    out = console()
    if not rows:
        out.print("no queue holds or held any task yet")
        return
    table = Table(title="task queues", title_justify="left")
    table.add_column("queue")
    for state in _STATES:
        table.add_column(state, justify="right")
    table.add_column("oldest pending", justify="right")
    for row in sorted(rows, key=lambda r: r.queue):
        counts = [str(getattr(row, state)) for state in _STATES]
        oldest = age(row.oldest_pending_age_seconds) if row.pending else "-"
        table.add_row(escape(row.queue), *counts, oldest)
    out.print(table)


async def _stats(config: Config) -> list[QueueStats]:
    async with bootstrap.open_runtime(config, migrate_schema=False) as runtime:
        return await runtime.queue.stats()


@queue.command()
@click.argument("queue_name", metavar="[QUEUE]", required=False)
@click.option("--requeue", "task_id", metavar="ID", default=None, help="Run task ID again.")
@click.option("--all", "requeue_all", is_flag=True, help="Run every listed task again.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1),
    help="At most this many tasks per queue (newest first).",
)  # fmt: skip
@_JSON_OPTION
def archived(
    queue_name: str | None, task_id: str | None, requeue_all: bool, limit: int, as_json: bool
) -> None:
    """List tasks that failed for good (all queues, or QUEUE), or run them again.

    A task id is its job id. Running a task again: when its job is `failed` (the
    usual case, and final), a new job is created from it as `POST /api/jobs/ID/retry`
    does (linked by retry_of_job_id, following a video:full job's retry plan) and the
    archived task is removed; a task whose job never got its final status is moved
    back to pending as it is, with its retry count reset. With --all the tasks of
    QUEUE (or of every queue) are handled until none is left.

    Exit codes: 0 listed, or every task queued again; 1 some task could not be (not
    archived, job purged or completed, no retry plan); 2 invalid configuration or
    arguments; 3 the database or queue backend is unreachable.
    """
    if task_id is not None and requeue_all:
        raise RejectedError("--requeue and --all exclude each other")
    config = load_config()
    if task_id is None and not requeue_all:
        tasks = run(_list(config, queue_name, limit))
        if as_json:
            click.echo(
                json.dumps([archived_view(item, _when) for item in tasks], ensure_ascii=False)
            )
        else:
            _print_archived(tasks)
        return
    sys.exit(run(_requeue(config, queue_name, task_id, limit)))


async def _list(config: Config, queue_name: str | None, limit: int) -> list[ArchivedTask]:
    async with bootstrap.open_runtime(config, migrate_schema=False) as runtime:
        return await _archived(runtime, queue_name, limit)


async def _archived(
    runtime: bootstrap.Runtime, queue_name: str | None, limit: int
) -> list[ArchivedTask]:
    return await runtime.core.archived_tasks.archived(queue_name, limit)


def _print_archived(tasks: list[ArchivedTask]) -> None:
    out = console()
    if not tasks:
        out.print("no archived tasks")
        return
    table = Table(title="archived tasks", title_justify="left")
    # Folded, never cut with "…": ids get copied into --requeue.
    for column in ("task (job) id", "queue", "type", "retried", "archived", "last error"):
        table.add_column(column, overflow="fold")
    for item in tasks:
        table.add_row(
            escape(item.task.id), escape(item.task.queue), escape(item.task.type),
            str(item.retried), _when(item.archived_at), escape(item.last_error),
        )  # fmt: skip
    out.print(table)


async def _requeue(config: Config, queue_name: str | None, task_id: str | None, limit: int) -> int:
    out, errors = console(), console(stderr=True)
    failures = 0
    async with bootstrap.open_runtime(config, migrate_schema=False) as runtime:
        if task_id is not None:
            todo = [task_id]
        else:
            todo = [item.task.id for item in await _archived(runtime, queue_name, limit)]
        seen: set[str] = set()
        while todo:
            for current in todo:
                seen.add(current)
                try:
                    out.print(await requeue_one(runtime, current))
                except VyluxError as exc:
                    failures += 1
                    errors.print(f"Error: task {escape(current)}: {escape(str(exc))}")
            # --all: later pages, left over by --limit; each task is tried once.
            more = [] if task_id is not None else await _archived(runtime, queue_name, limit)
            todo = [item.task.id for item in more if item.task.id not in seen]
        if task_id is None and not seen:
            out.print("no archived tasks")
    return 1 if failures else 0


async def requeue_one(runtime: bootstrap.Runtime, task_id: str) -> str:
    """Run archived task ``task_id`` again and say how (see ``ArchivedTasks.requeue``)."""
    requeued = await runtime.core.archived_tasks.requeue(task_id)
    if requeued.retry is not None:
        retry = requeued.retry
        created = ", ".join(f"{j.id} ({j.type}, {j.status})" for j in retry.jobs)
        return f"retried failed job {escape(task_id)} ({retry.strategy}) as: {escape(created)}"
    assert requeued.job is not None
    job = requeued.job
    return f"requeued {escape(task_id)} on {escape(job.queue)} (job {job.status})"


def age(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h01m``, ``3d04h``: short enough for a table column."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
