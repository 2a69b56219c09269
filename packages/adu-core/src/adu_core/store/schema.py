"""The job store's tables (SQLAlchemy Core). Changes go through Alembic migrations in
:mod:`adu_core.migrations`; this module mirrors the latest revision, and
:mod:`adu_core.store.ddl` (what a new store is created from) mirrors this module. Imported
by the tests only (the store itself runs on SQL text, without SQLAlchemy): they check the
DDL and the migrations against it."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text),
    # export or load (JobSpec.kind), a column so lists can filter on it
    sa.Column("kind", sa.String(16), nullable=False, server_default="export"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("spec", sa.Text, nullable=False),  # JobSpec JSON, redacted
    sa.Column("source", sa.Text, nullable=False),  # source URL without password
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(128)),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("heartbeat_at", sa.Float),
    sa.Column("worker_id", sa.String(128)),
    # the claim's lease: renewed by the heartbeat; once past, any process reaps the job
    sa.Column("lease_expires_at", sa.Float),
    # run by the process that submitted it (adu export), not by a worker
    sa.Column("foreground", sa.Boolean, nullable=False, server_default=sa.false()),
    # automatic requeues after a worker died, since the last submit or retry
    sa.Column("requeues", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("tables_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tables_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tables_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_estimate", sa.BigInteger),
    sa.Column("error", sa.Text),  # ErrorInfo JSON
    sa.Column("source_info", sa.Text),  # SourceInfo JSON (redacted)
    sa.Column("manifest_path", sa.Text),
    sa.Column("secret", sa.LargeBinary),  # encrypted password, erased when the job ends
)

job_tables = sa.Table(
    "job_tables",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("schema", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_estimate", sa.BigInteger),
    sa.Column("partitions_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("partitions_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("validation", sa.Text),
    sa.Column("files", sa.Text),
    # the table's manifest entry once published: a retry rebuilds the manifest from it
    sa.Column("entry", sa.Text),
    sa.UniqueConstraint("job_id", "schema", "name", name="uq_job_tables_name"),
)

job_partitions = sa.Table(
    "job_partitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("table_id", sa.Integer, sa.ForeignKey("job_tables.id", ondelete="CASCADE"), nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("spec", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("worker", sa.Text),  # where it ran: host:pid, or an executor's worker address
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("table_name", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("data", sa.Text),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(128), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_login_at", sa.Float),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.Float),
    sa.Column("session_version", sa.Integer, nullable=False, server_default="0"),
)

#: failed sign-ins per account and client address (back-off), and whether the address
#: ever signed in to the account (it may then pass the account's lockout)
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("blocked_until", sa.Float),
    sa.Column("last_failure_at", sa.Float),
    sa.Column("succeeded_at", sa.Float),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("host", sa.Text),
    sa.Column("pid", sa.Integer),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)

export_watermarks = sa.Table(
    "export_watermarks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    # the job's source without password (a redacted URL or a named connection)
    sa.Column("source", sa.Text, nullable=False, index=True),
    sa.Column("target", sa.Text, nullable=False),
    # SHA-256 of the export's manifest.json; the one it continues (a delta); its place in
    # the chain (0: a full export, the base)
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("previous_sha256", sa.String(64)),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("table_name", sa.Text, nullable=False),  # schema.table
    sa.Column("cursor_column", sa.Text, nullable=False),
    sa.Column("value", sa.Text),  # the watermark (its text form in the source's type)
    sa.Column("recorded_at", sa.Float, nullable=False),
)
