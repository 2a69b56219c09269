"""Leases on running jobs, foreground jobs, automatic requeues, published tables' entries

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs: a batch (copy-and-move) of jobs on SQLite would drop the old table,
    # and its ON DELETE CASCADE would take every job's tables and partitions with it
    op.add_column("jobs", sa.Column("lease_expires_at", sa.Float))
    op.add_column("jobs", sa.Column("foreground", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("jobs", sa.Column("requeues", sa.Integer, nullable=False, server_default="0"))
    # a job running when the store is upgraded keeps the old rule: 60 s after its heartbeat
    op.execute("UPDATE jobs SET lease_expires_at = heartbeat_at + 60 WHERE status = 'running'")
    op.add_column("job_tables", sa.Column("entry", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("job_tables") as batch:
        batch.drop_column("entry")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("requeues")
        batch.drop_column("foreground")
        batch.drop_column("lease_expires_at")
