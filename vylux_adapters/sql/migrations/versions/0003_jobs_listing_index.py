"""jobs: an index for the newest-first keyset listing of GET /api/jobs

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("idx_jobs_created_id", "jobs", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("idx_jobs_created_id", table_name="jobs")
