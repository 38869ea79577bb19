"""ArchivedTasks: list the tasks that ran out of attempts, run them again, or drop them.

Shared by ``vylux-cli queue archived`` and the dashboard, so both run a task again the
same way.
"""

from __future__ import annotations

from attrs import frozen

from vylux_core.errors import JobNotFound, NotRequeueable
from vylux_core.jobs.job import Job, JobStatus
from vylux_core.jobs.task import ArchivedTask
from vylux_core.ports.job_store import JobStore
from vylux_core.ports.task_queue import TaskQueue
from vylux_core.services.job_service import JobService, RetrySubmission


@frozen(kw_only=True)
class Requeued:
    """How a task runs again: as new job(s) (``retry``) or as itself (``job``)."""

    task_id: str
    retry: RetrySubmission | None = None
    job: Job | None = None


@frozen(kw_only=True)
class ArchivedTasks:
    queue: TaskQueue
    jobs: JobStore
    job_service: JobService

    async def archived(self, queue_name: str | None, limit: int) -> list[ArchivedTask]:
        """At most ``limit`` per queue, newest first; every queue when ``queue_name`` is None."""
        if queue_name is not None:
            names = [queue_name]
        else:
            names = sorted(s.queue for s in await self.queue.stats() if s.archived)
        found: list[ArchivedTask] = []
        for name in names:
            found += await self.queue.list_archived(name, limit)
        return found

    async def requeue(self, task_id: str) -> Requeued:
        """Run archived task ``task_id`` again; raises ``NotRequeueable`` saying why not.

        A plain requeue of a task whose job is ``failed`` would be skipped by the worker
        (failed is final, the runner acks the task untouched), so such a job is retried
        as a new job instead, exactly like the API's retry.
        """
        if not await self.queue.contains(task_id):
            raise NotRequeueable("the queue holds no such task")
        try:
            job = await self.jobs.get(task_id)
        except JobNotFound:
            raise NotRequeueable(
                "its job no longer exists (purged); the worker would skip it"
            ) from None
        if job.status is JobStatus.FAILED:
            retry = await self.job_service.retry(job.id)
            # Handed over to the new job(s): the archived copy could only ever be skipped.
            await self.queue.cancel(task_id)
            return Requeued(task_id=task_id, retry=retry)
        if job.status.is_terminal:
            raise NotRequeueable(f"its job is {job.status}; the worker would skip it")
        if not await self.queue.requeue_archived(task_id):
            raise NotRequeueable("it is not archived")
        return Requeued(task_id=task_id, job=job)

    async def delete(self, queue_name: str, task_id: str) -> None:
        """Drop archived task ``task_id`` of ``queue_name``; its job stays as it is.

        Only a task the archive lists is dropped: the queue's delete would also take a
        waiting or running task.
        """
        archived = await self.queue.list_archived(queue_name, ARCHIVE_SCAN_LIMIT)
        if all(item.task.id != task_id for item in archived):
            raise NotRequeueable("it is not archived in that queue")
        await self.queue.cancel(task_id)


# How far delete looks for the task among a queue's archived tasks (newest first).
ARCHIVE_SCAN_LIMIT = 10_000
