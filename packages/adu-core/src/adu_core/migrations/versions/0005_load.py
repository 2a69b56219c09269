"""Jobs of two kinds: export and load (adu load)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (see 0003: a batch copy of jobs would cascade-delete its tables)
    op.add_column("jobs", sa.Column("kind", sa.String(16), nullable=False, server_default="export"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("kind")
