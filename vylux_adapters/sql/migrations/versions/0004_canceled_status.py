"""jobs: the canceled status is spelled `canceled`, and frees its fingerprint

Revision ID: 0004
Revises: 0003

The partial unique index on active fingerprints named v1.x's never-written
`cancelled`; Vylux writes v2.x's `canceled`. Rows spelled the old way are rewritten
and the index excludes the new spelling. The index is dropped before the rewrite: a
renamed row would otherwise count as active under the old condition and could clash
with a live job holding the same fingerprint. The migration lock lets one replica
run this; on PostgreSQL it is one transaction, so no replica sees the table without
its index or a half-rewritten status column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEX = "uq_jobs_active_fingerprint"


def _respell(old: str, new: str) -> None:
    op.drop_index(_INDEX, table_name="jobs")
    op.execute(
        sa.text("UPDATE jobs SET status = :new WHERE status = :old").bindparams(old=old, new=new)
    )
    active = sa.text(f"status NOT IN ('failed', '{new}')")
    op.create_index(
        _INDEX,
        "jobs",
        ["request_fingerprint"],
        unique=True,
        postgresql_where=active,
        sqlite_where=active,
    )


def upgrade() -> None:
    _respell("cancelled", "canceled")


def downgrade() -> None:
    _respell("canceled", "cancelled")
