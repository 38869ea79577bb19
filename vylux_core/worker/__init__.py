"""Worker-side use cases: running an attempt, recovering lost leases, reconciling."""

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
