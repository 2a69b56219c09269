"""job_partitions.worker: where each partition ran

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # host:pid for the built-in executors, the worker's address for a cluster executor;
    # NULL for partitions recorded before this revision
    op.add_column("job_partitions", sa.Column("worker", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("job_partitions") as batch:
        batch.drop_column("worker")
