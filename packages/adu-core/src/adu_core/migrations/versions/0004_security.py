"""Session versions per account, sign-in attempts per account and address

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # bumped at sign-out, password change, role change and deactivation: a session
    # signed with an older version is refused (server-side revocation)
    op.add_column("users", sa.Column("session_version", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "login_attempts",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("blocked_until", sa.Float),
        sa.Column("last_failure_at", sa.Float),
        sa.Column("succeeded_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("login_attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
