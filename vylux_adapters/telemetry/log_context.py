"""What a log line says about where it comes from: job, task type and trace.

The job id and task type live in context variables so that every line logged while an
attempt runs carries them, however deep the call that logs (a media tool, a storage
call). Each attempt runs in its own asyncio task, which copies the context when it is
created, so concurrent attempts never see each other's values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace

from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.results import Results
from vylux_core.worker import JobHandler, ProgressReporter

job_id: ContextVar[str | None] = ContextVar("vylux_job_id", default=None)
task_type: ContextVar[str | None] = ContextVar("vylux_task_type", default=None)


@contextmanager
def job_log_context(job: str, task: str) -> Iterator[None]:
    """Lines logged inside the block carry ``job_id`` and ``task_type``."""
    job_token = job_id.set(job)
    task_token = task_type.set(task)
    try:
        yield
    finally:
        task_type.reset(task_token)
        job_id.reset(job_token)


class LogContextHandler:
    """A workflow handler whose log lines carry the job id and task type."""

    def __init__(self, *, inner: JobHandler) -> None:
        self._inner = inner

    async def __call__(self, job: Job, progress: ProgressReporter) -> Results:
        with job_log_context(job.id, str(job.type)):
            return await self._inner(job, progress)


def with_log_context(handlers: Mapping[JobType, JobHandler]) -> dict[JobType, JobHandler]:
    return {job_type: LogContextHandler(inner=handler) for job_type, handler in handlers.items()}


def current_log_fields() -> dict[str, str]:
    """``trace_id``/``span_id`` of the active span and ``job_id``/``task_type`` when set.

    Read from the OpenTelemetry context rather than a tracer provider: providers are not
    installed globally here, but the span they start is still the current one.
    """
    fields: dict[str, str] = {}
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        fields["trace_id"] = format(span_context.trace_id, "032x")
        fields["span_id"] = format(span_context.span_id, "016x")
    current_job, current_task = job_id.get(), task_type.get()
    if current_job is not None:
        fields["job_id"] = current_job
    if current_task is not None:
        fields["task_type"] = current_task
    return fields
