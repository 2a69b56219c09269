"""The store's plumbing: the connections (:mod:`adu_core.store.db`), transactions and
the schema's version.

Every part of the store (:mod:`~adu_core.store.jobs`, :mod:`~adu_core.store.progress`,
:mod:`~adu_core.store.events`, :mod:`~adu_core.store.workers`) is a mixin over
:class:`StoreBase`; :class:`adu_core.store.Store` puts them together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from adu_core.errors import StoreUnavailable, UsageError
from adu_core.secrets import redact_url
from adu_core.store.db import CONNECT_TIMEOUT, POSTGRESQL, SQLITE, Connection, Database
from adu_core.store.resilience import Outage, is_outage, outage_message

__all__ = ["CONNECT_TIMEOUT", "StoreBase"]


class StoreBase:
    """Access to the job store.

    :param url: the store's URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    :param retry_seconds: how long a call retries while the store is unreachable
        (:mod:`adu_core.store.resilience`).
    :raises UsageError: ``url`` is not a database URL ADU can use.
    :raises StoreUnavailable: the store cannot be reached when it is opened.

    :ivar db: the store's connections (:class:`~adu_core.store.db.Database`):
        ``with store.db.read() as conn`` / ``with store.db.write() as conn``, then
        ``conn.execute("SELECT … WHERE id = :id", {"id": …})``.
    """

    def __init__(
        self, url: str, *, secret_key: str | None = None, migrate: bool = True, retry_seconds: float = 10.0
    ) -> None:
        self.url = url
        self.secret_key = secret_key
        self.retry_seconds = retry_seconds
        self.outage = Outage(redact_url(url))
        self.db = Database(url)
        if migrate:
            self.migrate()
        self._file = self.db.file_identity()

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings.store_url,
            secret_key=settings.secret_key,
            retry_seconds=getattr(settings, "store_retry_seconds", 10.0),
        )

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (a no-op when it is there).

        :raises StoreUnavailable: the store cannot be reached (one line, no retries: a
            wrong or unreachable ``ADU_STORE_URL`` is reported at once).
        """
        try:
            self._migrate()
        except (ValueError, TypeError) as exc:  # e.g. an option libpq does not know
            raise UsageError(f"ADU_STORE_URL is not a usable database URL: {redact_url(self.url)!r} ({exc})") from None
        except Exception as exc:
            if is_outage(exc):
                raise StoreUnavailable(
                    f"cannot open the job store {redact_url(self.url)} (ADU_STORE_URL): {outage_message(exc)}"
                ) from None
            if type(exc).__module__.split(".")[0] == "psycopg2" and type(exc).__name__ == "ProgrammingError":
                # libpq refused the connection string itself (an unknown option...)
                raise UsageError(
                    f"ADU_STORE_URL is not a usable database URL: {redact_url(self.url)!r} ({outage_message(exc)})"
                ) from None
            raise

    def _migrate(self) -> None:
        from adu_core.migrations import HEAD_REVISION

        if self._version() == HEAD_REVISION:
            return  # every CLI call opens the store: nothing more to do when up to date
        with self.db.write() as conn:  # the write lock: concurrent starts create or migrate once
            if conn.dialect == POSTGRESQL:
                # SQLite's BEGIN IMMEDIATE serializes; PostgreSQL needs an explicit lock
                conn.execute("SELECT pg_advisory_xact_lock(4242001)")
            present = _table_names(conn)
            if "alembic_version" in present:
                if conn.execute("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION:
                    return  # another process got there first
            elif not present & set(STORE_TABLES):
                _create(conn)  # a new store: the latest schema at once, no Alembic
                return
        # an older store: Alembic (and SQLAlchemy) only for this
        from adu_core.store.upgrade import upgrade

        upgrade(self.url)

    def _version(self) -> str | None:
        """The store's Alembic revision; None for a new store."""
        try:
            with self.db.read() as conn:
                return conn.execute("SELECT version_num FROM alembic_version").scalar()  # type: ignore[no-any-return]
        except Exception as exc:
            if is_outage(exc) or type(exc).__module__.split(".")[0] not in ("sqlite3", "psycopg2"):
                raise
            return None  # no alembic_version table: a new store (or one from before Alembic)

    def ping(self) -> None:
        """One query, at once, no retries (health checks).

        :raises StoreUnavailable: the store does not answer.
        """
        if self._file is not None and self.db.file_identity() != self._file:
            self.db.dispose()  # the file was replaced: the pooled connections hold the old one
            self._file = self.db.file_identity()
        try:
            with self.db.read() as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("sqlite3", "psycopg2"):
                raise
            raise StoreUnavailable(
                f"the job store {redact_url(self.url)} does not answer: {outage_message(exc)}"
            ) from None

    def dispose(self) -> None:
        self.db.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction."""
        with self.db.write() as conn:
            yield conn


#: the store's tables (those of :mod:`adu_core.store.schema`)
STORE_TABLES = (
    "jobs",
    "job_tables",
    "job_partitions",
    "events",
    "users",
    "login_attempts",
    "workers",
    "export_watermarks",
)


def _table_names(conn: Connection) -> set[str]:
    """The tables of the store's database (its current schema on PostgreSQL)."""
    if conn.dialect == SQLITE:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return set(conn.execute(sql).scalars())


def _create(conn: Connection) -> None:
    """A new store at the latest revision: the tables of :mod:`adu_core.store.ddl`
    (tests/core/test_store.py compares them with the migrations' and with
    :mod:`adu_core.store.schema`) and Alembic's version table stamped with
    :data:`~adu_core.migrations.HEAD_REVISION`, as ``alembic upgrade head`` would leave
    it, without Alembic."""
    from adu_core.migrations import HEAD_REVISION
    from adu_core.store.ddl import statements

    for statement in statements(conn.dialect):
        conn.execute(statement)
    conn.execute("INSERT INTO alembic_version (version_num) VALUES (:v)", {"v": HEAD_REVISION})
