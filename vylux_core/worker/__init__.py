"""Worker-side use cases: running an attempt, recovering lost leases, reconciling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vylux_core.lazy_exports import lazy_attribute

if TYPE_CHECKING:
    from vylux_core.worker.job_runner import AttemptOutcome, JobHandler, JobRunner, is_permanent
    from vylux_core.worker.lease_recoverer import LeaseRecoverer
    from vylux_core.worker.progress import ProgressReporter
    from vylux_core.worker.reconciler import Reconciler
    from vylux_core.worker.webhook_deliverer import WebhookDeliverer

__all__ = [
    "AttemptOutcome",
    "JobHandler",
    "JobRunner",
    "LeaseRecoverer",
    "ProgressReporter",
    "Reconciler",
    "WebhookDeliverer",
    "is_permanent",
]

_attribute = lazy_attribute(
    __name__,
    {
        "vylux_core.worker.job_runner": (
            "AttemptOutcome",
            "JobHandler",
            "JobRunner",
            "is_permanent",
        ),
        "vylux_core.worker.lease_recoverer": ("LeaseRecoverer",),
        "vylux_core.worker.progress": ("ProgressReporter",),
        "vylux_core.worker.reconciler": ("Reconciler",),
        "vylux_core.worker.webhook_deliverer": ("WebhookDeliverer",),
    },
)


def __getattr__(name: str) -> Any:
    return _attribute(name)
