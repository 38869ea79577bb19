"""jobs, image cache index, encryption keys and the webhook outbox

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_bytes = sa.LargeBinary().with_variant(postgresql.BYTEA(), "postgresql")
_ts = sa.DateTime(timezone=True)
_ACTIVE = sa.text("status NOT IN ('failed', 'cancelled')")
_HAS_PARENT = sa.text("retry_of_job_id IS NOT NULL")

# Keeps updated_at right for any UPDATE that does not set it itself (manual fixes,
# other tools); the adapters set it explicitly from their clock.
_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION vylux_touch_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("options", _json, nullable=False),
        sa.Column("request_fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="queued"),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("callback_url", sa.Text, nullable=False, server_default=""),
        sa.Column("callback_status", sa.Text, nullable=False, server_default="pending"),
        sa.Column(
            "retry_of_job_id",
            sa.Text,
            sa.ForeignKey("jobs.id", ondelete="SET NULL", name="fk_jobs_retry_of"),
            nullable=True,
        ),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("results", _json, nullable=True),
        sa.Column("queue", sa.Text, nullable=False, server_default="default"),
        sa.Column("max_retry", sa.Integer, nullable=False, server_default="3"),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
    )
    op.create_index(
        "uq_jobs_active_fingerprint",
        "jobs",
        ["request_fingerprint"],
        unique=True,
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    )
    op.create_index("idx_jobs_hash", "jobs", ["hash"])
    op.create_index("idx_jobs_status_updated", "jobs", ["status", "updated_at"])
    op.create_index(
        "idx_jobs_retry_of",
        "jobs",
        ["retry_of_job_id"],
        postgresql_where=_HAS_PARENT,
        sqlite_where=_HAS_PARENT,
    )
    op.create_table(
        "image_cache_entries",
        sa.Column("hash", sa.Text, primary_key=True),
        sa.Column("storage_key", sa.Text, primary_key=True),
        sa.Column("cache_key", sa.Text, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
    )
    op.create_table(
        "encryption_keys",
        sa.Column("hash", sa.Text, primary_key=True),
        sa.Column("wrapped_key", _bytes, nullable=False),
        sa.Column("wrap_nonce", _bytes, nullable=False),
        sa.Column("kek_version", sa.Text, nullable=False, server_default="v1"),
        sa.Column("aad_scheme", sa.String(16), nullable=False, server_default="version"),
        sa.Column("kid", sa.Text, nullable=False, server_default=""),
        sa.Column("scheme", sa.Text, nullable=False, server_default="cbcs"),
        sa.Column("key_uri", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _ts, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("job_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", _bytes, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _ts, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
    )
    op.create_index(
        "idx_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("idx_webhook_deliveries_job", "webhook_deliveries", ["job_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_TRIGGER_FUNCTION)
        for table in ("jobs", "webhook_deliveries"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION vylux_touch_updated_at()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("jobs", "webhook_deliveries"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_updated_at ON {table}")
        op.execute("DROP FUNCTION IF EXISTS vylux_touch_updated_at()")
    op.drop_table("webhook_deliveries")
    op.drop_table("encryption_keys")
    op.drop_table("image_cache_entries")
    op.drop_table("jobs")
