"""The job store's tables as plain DDL, for a new store (no SQLAlchemy, no Alembic).

One text per statement, with the few words SQLite and PostgreSQL spell differently filled
in per dialect (:data:`WORDS`): the auto-numbered keys (``SERIAL`` on PostgreSQL; an
``INTEGER PRIMARY KEY`` numbers itself on SQLite), binary data, boolean defaults. It is what
``metadata.create_all`` of :mod:`adu_core.store.schema` (which mirrors the latest migration)
creates, plus Alembic's version table; tests/core/test_store.py compares the three on
both databases. A schema change is a migration, a change of :mod:`~adu_core.store.schema`
and a change here.
"""

from __future__ import annotations

#: the words of :data:`TABLES` that differ between the dialects
WORDS = {
    "sqlite": {"serial": "INTEGER", "blob": "BLOB", "false": "0", "true": "1"},
    "postgresql": {"serial": "SERIAL", "blob": "BYTEA", "false": "false", "true": "true"},
}

#: the tables and indexes, in dependency order, then Alembic's version table
TABLES = (
    """
    CREATE TABLE jobs (
        id VARCHAR(32) NOT NULL,
        name TEXT,
        kind VARCHAR(16) DEFAULT 'export' NOT NULL,
        status VARCHAR(16) NOT NULL,
        spec TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        created_by VARCHAR(128),
        created_at FLOAT NOT NULL,
        started_at FLOAT,
        finished_at FLOAT,
        heartbeat_at FLOAT,
        worker_id VARCHAR(128),
        lease_expires_at FLOAT,
        foreground BOOLEAN DEFAULT {false} NOT NULL,
        requeues INTEGER DEFAULT '0' NOT NULL,
        attempt INTEGER DEFAULT '0' NOT NULL,
        cancel_requested BOOLEAN DEFAULT {false} NOT NULL,
        tables_total INTEGER DEFAULT '0' NOT NULL,
        tables_done INTEGER DEFAULT '0' NOT NULL,
        tables_failed INTEGER DEFAULT '0' NOT NULL,
        rows BIGINT DEFAULT '0' NOT NULL,
        bytes BIGINT DEFAULT '0' NOT NULL,
        rows_estimate BIGINT,
        error TEXT,
        source_info TEXT,
        manifest_path TEXT,
        secret {blob},
        PRIMARY KEY (id)
    )
    """,
    "CREATE INDEX ix_jobs_created_at ON jobs (created_at)",
    "CREATE INDEX ix_jobs_status ON jobs (status)",
    """
    CREATE TABLE login_attempts (
        username VARCHAR(128) NOT NULL,
        address VARCHAR(64) NOT NULL,
        failures INTEGER DEFAULT '0' NOT NULL,
        blocked_until FLOAT,
        last_failure_at FLOAT,
        succeeded_at FLOAT,
        PRIMARY KEY (username, address)
    )
    """,
    """
    CREATE TABLE users (
        id {serial} NOT NULL,
        username VARCHAR(128) NOT NULL,
        password_hash TEXT NOT NULL,
        role VARCHAR(16) NOT NULL,
        active BOOLEAN DEFAULT {true} NOT NULL,
        created_at FLOAT NOT NULL,
        last_login_at FLOAT,
        failed_logins INTEGER DEFAULT '0' NOT NULL,
        locked_until FLOAT,
        session_version INTEGER DEFAULT '0' NOT NULL,
        PRIMARY KEY (id),
        UNIQUE (username)
    )
    """,
    """
    CREATE TABLE workers (
        id VARCHAR(128) NOT NULL,
        host TEXT,
        pid INTEGER,
        started_at FLOAT NOT NULL,
        heartbeat_at FLOAT NOT NULL,
        PRIMARY KEY (id)
    )
    """,
    """
    CREATE TABLE events (
        id {serial} NOT NULL,
        job_id VARCHAR(32),
        ts FLOAT NOT NULL,
        level VARCHAR(10) NOT NULL,
        table_name TEXT,
        message TEXT NOT NULL,
        data TEXT,
        PRIMARY KEY (id),
        FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX ix_events_job_id ON events (job_id)",
    """
    CREATE TABLE export_watermarks (
        id {serial} NOT NULL,
        job_id VARCHAR(32) NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        manifest_sha256 VARCHAR(64) NOT NULL,
        previous_sha256 VARCHAR(64),
        position INTEGER DEFAULT '0' NOT NULL,
        table_name TEXT NOT NULL,
        cursor_column TEXT NOT NULL,
        value TEXT,
        recorded_at FLOAT NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX ix_export_watermarks_job_id ON export_watermarks (job_id)",
    "CREATE INDEX ix_export_watermarks_source ON export_watermarks (source)",
    """
    CREATE TABLE job_tables (
        id {serial} NOT NULL,
        job_id VARCHAR(32) NOT NULL,
        schema TEXT NOT NULL,
        name TEXT NOT NULL,
        status VARCHAR(16) NOT NULL,
        rows BIGINT DEFAULT '0' NOT NULL,
        bytes BIGINT DEFAULT '0' NOT NULL,
        rows_estimate BIGINT,
        partitions_total INTEGER DEFAULT '0' NOT NULL,
        partitions_done INTEGER DEFAULT '0' NOT NULL,
        started_at FLOAT,
        finished_at FLOAT,
        error TEXT,
        validation TEXT,
        files TEXT,
        entry TEXT,
        PRIMARY KEY (id),
        CONSTRAINT uq_job_tables_name UNIQUE (job_id, schema, name),
        FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX ix_job_tables_job_id ON job_tables (job_id)",
    """
    CREATE TABLE job_partitions (
        id {serial} NOT NULL,
        job_id VARCHAR(32) NOT NULL,
        table_id INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        status VARCHAR(16) NOT NULL,
        rows BIGINT DEFAULT '0' NOT NULL,
        attempts INTEGER DEFAULT '0' NOT NULL,
        spec TEXT,
        error TEXT,
        worker TEXT,
        PRIMARY KEY (id),
        FOREIGN KEY(job_id) REFERENCES jobs (id) ON DELETE CASCADE,
        FOREIGN KEY(table_id) REFERENCES job_tables (id) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX ix_job_partitions_job_id ON job_partitions (job_id)",
    """
    CREATE TABLE alembic_version (
        version_num VARCHAR(32) NOT NULL,
        CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
    )
    """,
)


def statements(dialect: str) -> list[str]:
    """The statements that create a new store's tables on ``dialect`` (``sqlite`` or
    ``postgresql``)."""
    words = WORDS[dialect]
    return [text.format(**words).strip() for text in TABLES]
