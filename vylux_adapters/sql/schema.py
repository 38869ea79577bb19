"""The database schema, declared once for PostgreSQL and SQLite."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

metadata = MetaData()

# none_as_null: a Python None is SQL NULL, not the JSON text "null".
_json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
_bytes = LargeBinary().with_variant(BYTEA(), "postgresql")
_timestamp = DateTime(timezone=True)

# Only one *active* job may own a request fingerprint, so concurrent identical requests
# cannot both create a job (D10); failed and canceled jobs free it.
ACTIVE_JOB_CONDITION = text("status NOT IN ('failed', 'canceled')")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("options", _json, nullable=False),
    Column("request_fingerprint", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="queued"),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("callback_url", Text, nullable=False, server_default=""),
    Column("callback_status", Text, nullable=False, server_default="pending"),
    Column("retry_of_job_id", Text, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    Column("error", Text, nullable=True),
    Column("results", _json, nullable=True),
    Column("queue", Text, nullable=False, server_default="default"),
    Column("max_retry", Integer, nullable=False, server_default="3"),
    Column("created_at", _timestamp, nullable=False),
    Column("updated_at", _timestamp, nullable=False),
    Index(
        "uq_jobs_active_fingerprint",
        "request_fingerprint",
        unique=True,
        postgresql_where=ACTIVE_JOB_CONDITION,
        sqlite_where=ACTIVE_JOB_CONDITION,
    ),
    Index("idx_jobs_hash", "hash"),
    Index("idx_jobs_status_updated", "status", "updated_at"),
    # GET /api/jobs pages newest first on (created_at, id).
    Index("idx_jobs_created_id", "created_at", "id"),
    Index(
        "idx_jobs_retry_of",
        "retry_of_job_id",
        postgresql_where=text("retry_of_job_id IS NOT NULL"),
        sqlite_where=text("retry_of_job_id IS NOT NULL"),
    ),
)

image_cache_entries = Table(
    "image_cache_entries",
    metadata,
    Column("hash", Text, primary_key=True),
    Column("storage_key", Text, primary_key=True),
    Column("cache_key", Text, nullable=False),
    Column("created_at", _timestamp, nullable=False),
)

encryption_keys = Table(
    "encryption_keys",
    metadata,
    Column("hash", Text, primary_key=True),
    Column("wrapped_key", _bytes, nullable=False),
    Column("wrap_nonce", _bytes, nullable=False),
    Column("kek_version", Text, nullable=False, server_default="v1"),
    # Rows from the Go implementation bind only the version in the GCM AAD ("version"); new
    # rows bind version and hash ("version_hash"): D16, vylux_core.security.key_ring.AadScheme.
    Column("aad_scheme", String(16), nullable=False, server_default="version"),
    Column("kid", Text, nullable=False, server_default=""),
    Column("scheme", Text, nullable=False, server_default="cbcs"),
    Column("key_uri", Text, nullable=False, server_default=""),
    Column("created_at", _timestamp, nullable=False),
)

# The durable webhook outbox: a job's final outcome is written here in the same
# transaction as its final status, and a delivery loop works through it.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("payload", _bytes, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", _timestamp, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("last_error", Text, nullable=True),
    Column("created_at", _timestamp, nullable=False),
    Column("updated_at", _timestamp, nullable=False),
    Index("idx_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("idx_webhook_deliveries_job", "job_id"),
)

# The SQL-backed task queue (the embedded profile's broker). Rows exist while the queue
# holds a task; ack and cancel delete them. ``position`` orders pending tasks within a
# queue (FIFO; a task handed back on shutdown gets a position before every other).
tasks = Table(
    "tasks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("queue", Text, nullable=False),
    Column("payload", _json, nullable=False),
    Column("max_retry", Integer, nullable=False),
    Column("timeout_seconds", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("retried", Integer, nullable=False, server_default="0"),
    Column("position", BigInteger, nullable=False),
    Column("worker_id", Text, nullable=True),
    Column("lease_token", Text, nullable=True),
    Column("deadline", _timestamp, nullable=True),
    Column("due_at", _timestamp, nullable=True),
    Column("pending_since", _timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("archived_at", _timestamp, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, server_default=false()),
    Column("created_at", _timestamp, nullable=False),
    Index("idx_tasks_dequeue", "queue", "state", "position"),
    Index("idx_tasks_deadline", "state", "deadline"),
    Index("idx_tasks_due", "queue", "state", "due_at"),
)

# One row per queue that ever held a task: stats keep listing a drained queue, and the
# last position handed out makes FIFO positions atomic on both dialects (SQLite has no
# sequences). Only enqueue, promotion and requeue touch it; dequeue never does.
task_queues = Table(
    "task_queues",
    metadata,
    Column("name", Text, primary_key=True),
    Column("last_position", BigInteger, nullable=False),
)
