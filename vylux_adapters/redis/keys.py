"""Where the Redis task queue keeps its data: one hash-tagged key family per queue."""

from __future__ import annotations

from attrs import frozen


def registry_key(prefix: str) -> str:
    """The set of every queue that was ever enqueued to (stats, contains and cancel walk it)."""
    return f"{prefix}:queues"


@frozen
class QueueKeys:
    """The keys of one queue.

    Every key of a queue carries the same ``{queue}`` hash tag, so each Lua script,
    which touches only one queue, runs on a single Redis Cluster slot. The wake-up
    lists of all queues share one other tag instead, because a worker blocks on the
    wake-up lists of all its queues in one BLPOP.
    """

    prefix: str
    queue: str

    def __attrs_post_init__(self) -> None:
        if "{" in self.queue or "}" in self.queue:
            raise ValueError(f"queue name must not contain braces: {self.queue!r}")

    @property
    def _base(self) -> str:
        return f"{self.prefix}:{{{self.queue}}}"

    @property
    def pending(self) -> str:
        return f"{self._base}:pending"

    @property
    def active(self) -> str:
        return f"{self._base}:active"

    @property
    def scheduled(self) -> str:
        return f"{self._base}:scheduled"

    @property
    def retry(self) -> str:
        return f"{self._base}:retry"

    @property
    def archived(self) -> str:
        return f"{self._base}:archived"

    @property
    def by_state(self) -> list[str]:
        """pending, active, scheduled, retry and archived, in that order."""
        return [self.pending, self.active, self.scheduled, self.retry, self.archived]

    @property
    def task_prefix(self) -> str:
        """What a script prepends to a task id it only learns inside Redis."""
        return f"{self._base}:t:"

    def task(self, task_id: str) -> str:
        return self.task_prefix + task_id

    @property
    def wake(self) -> str:
        return f"{self.prefix}:{{wake}}:{self.queue}"
