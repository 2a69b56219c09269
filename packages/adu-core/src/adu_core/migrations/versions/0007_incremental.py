"""export_watermarks: where each cursor column of each source stood after an export

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # one row per table of an export with a cursor column; `adu export --after last`
    # continues from the rows of the newest export of the same source (its identity is
    # the job's source without password: a redacted URL or a named connection)
    op.create_table(
        "export_watermarks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("source", sa.Text, nullable=False, index=True),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("previous_sha256", sa.String(64)),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("cursor_column", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("export_watermarks")
