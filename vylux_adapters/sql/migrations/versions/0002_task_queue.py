"""the SQL task queue: tasks and their queues

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("payload", _json, nullable=False),
        sa.Column("max_retry", sa.Integer, nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("retried", sa.Integer, nullable=False, server_default="0"),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("worker_id", sa.Text, nullable=True),
        sa.Column("lease_token", sa.Text, nullable=True),
        sa.Column("deadline", _ts, nullable=True),
        sa.Column("due_at", _ts, nullable=True),
        sa.Column("pending_since", _ts, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("archived_at", _ts, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _ts, nullable=False),
    )
    # Dequeue: the head of one queue's pending tasks.
    op.create_index("idx_tasks_dequeue", "tasks", ["queue", "state", "position"])
    # Lease recovery: active tasks past their deadline.
    op.create_index("idx_tasks_deadline", "tasks", ["state", "deadline"])
    # Promotion: retry/scheduled tasks of one queue that are due.
    op.create_index("idx_tasks_due", "tasks", ["queue", "state", "due_at"])
    op.create_table(
        "task_queues",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("last_position", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("task_queues")
    op.drop_index("idx_tasks_due", table_name="tasks")
    op.drop_index("idx_tasks_deadline", table_name="tasks")
    op.drop_index("idx_tasks_dequeue", table_name="tasks")
    op.drop_table("tasks")
