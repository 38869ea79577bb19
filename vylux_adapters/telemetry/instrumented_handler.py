"""Per-task spans and worker metrics around the workflow handlers."""

from __future__ import annotations

import time
from collections.abc import Mapping

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from vylux_adapters.telemetry.metrics import Metrics
from vylux_core.jobs.job import Job, JobType
from vylux_core.jobs.results import Results
from vylux_core.worker import JobHandler, ProgressReporter


class InstrumentedHandler:
    def __init__(
        self, *, inner: JobHandler, metrics: Metrics, tracer_provider: TracerProvider
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._tracer = tracer_provider.get_tracer("vylux/worker")

    async def __call__(self, job: Job, progress: ProgressReporter) -> Results:
        task_type = str(job.type)
        started = time.perf_counter()
        attributes = {"job.type": task_type, "job.id": job.id}
        with self._tracer.start_as_current_span(
            task_type, kind=SpanKind.CONSUMER, attributes=attributes
        ) as span:
            try:
                results = await self._inner(job, progress)
            except BaseException as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.set_attribute("job.result", "error")
                self._metrics.observe_worker_task(task_type, "error", time.perf_counter() - started)
                raise
            span.set_attribute("job.result", "success")
            self._metrics.observe_worker_task(task_type, "success", time.perf_counter() - started)
            return results


def instrument_handlers(
    handlers: Mapping[JobType, JobHandler], *, metrics: Metrics, tracer_provider: TracerProvider
) -> dict[JobType, JobHandler]:
    return {
        job_type: InstrumentedHandler(
            inner=handler, metrics=metrics, tracer_provider=tracer_provider
        )
        for job_type, handler in handlers.items()
    }
