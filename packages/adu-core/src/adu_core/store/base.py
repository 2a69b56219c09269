"""The store's plumbing: the SQLAlchemy engine, write transactions and migrations.

Every part of the store (:mod:`~adu_core.store.jobs`, :mod:`~adu_core.store.progress`,
:mod:`~adu_core.store.events`, :mod:`~adu_core.store.workers`) is a mixin over
:class:`StoreBase`; :class:`adu_core.store.Store` puts them together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adu_core.errors import StoreUnavailable, UsageError
from adu_core.secrets import redact_url
from adu_core.store.resilience import Outage, is_outage, outage_message

#: seconds a connection to a PostgreSQL store may take before it counts as unreachable
CONNECT_TIMEOUT = 10


class StoreBase:
    """Access to the job store.

    :param url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    :param retry_seconds: how long a call retries while the store is unreachable
        (:mod:`adu_core.store.resilience`).
    :raises UsageError: ``url`` is not a database URL ADU can use.
    :raises StoreUnavailable: the store cannot be reached when it is opened.
    """

    def __init__(
        self, url: str, *, secret_key: str | None = None, migrate: bool = True, retry_seconds: float = 10.0
    ) -> None:
        self.url = url
        self.secret_key = secret_key
        self.retry_seconds = retry_seconds
        self.outage = Outage(redact_url(url))
        self.engine = make_engine(url)
        if migrate:
            self.migrate()
        self._file = _sqlite_file(self.engine)

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
        except sa.exc.DBAPIError as exc:
            if is_outage(exc):
                raise StoreUnavailable(
                    f"cannot open the job store {redact_url(self.url)} (ADU_STORE_URL): {outage_message(exc)}"
                ) from None
            raise
        except (ValueError, TypeError, sa.exc.ArgumentError) as exc:  # e.g. a port that is not a number
            raise UsageError(f"ADU_STORE_URL is not a usable database URL: {redact_url(self.url)!r} ({exc})") from None

    def _migrate(self) -> None:
        from adu_core.migrations import HEAD_REVISION

        try:
            with self.engine.connect() as conn:
                current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sa.exc.DBAPIError as exc:
            if is_outage(exc):
                raise
            current = None  # a new store
        if current == HEAD_REVISION:
            return  # every CLI call opens the store: skip Alembic's start-up when up to date
        with self._tx() as conn:  # the write lock: concurrent starts create or migrate once
            if conn.dialect.name == "postgresql":
                # SQLite's BEGIN IMMEDIATE serializes; PostgreSQL needs an explicit lock
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            if _is_empty(conn):
                _create(conn)  # a new store: the latest schema at once, no Alembic
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", "adu_core:migrations")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def ping(self) -> None:
        """One query, at once, no retries (health checks).

        :raises StoreUnavailable: the store does not answer.
        """
        if self._file is not None and _sqlite_file(self.engine) != self._file:
            self.engine.dispose()  # the file was replaced: the pooled connections hold the old one
            self._file = _sqlite_file(self.engine)
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as exc:
            raise StoreUnavailable(
                f"the job store {redact_url(self.url)} does not answer: {outage_message(exc)}"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction."""
        with self.engine.connect() as conn:
            conn.info["adu_write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("adu_write", None)


def _sqlite_file(engine: Engine) -> tuple[int, int] | None:
    """``(device, inode)`` of a SQLite store's file (``(0, 0)`` when it is missing); None
    for other stores."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    try:
        st = os.stat(str(engine.url.database))
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


def _is_empty(conn: Connection) -> bool:
    """True when none of the store's tables (nor Alembic's) exists yet."""
    from adu_core.store.schema import metadata

    present = set(sa.inspect(conn).get_table_names())
    return not present & {"alembic_version", *metadata.tables}


def _create(conn: Connection) -> None:
    """A new store at the latest revision: the tables of :mod:`adu_core.store.schema`
    (which mirrors the migrations; tests/core/test_store.py compares the two) and
    Alembic's version table stamped with :data:`~adu_core.migrations.HEAD_REVISION`, as
    ``alembic upgrade head`` would leave it, at a fraction of its start-up cost."""
    from adu_core.migrations import HEAD_REVISION
    from adu_core.store.schema import metadata

    metadata.create_all(conn)
    version = sa.Table(
        "alembic_version",
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD_REVISION))


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the store at ``url``; :class:`UsageError` for a bad URL."""
    try:
        parsed = sa.engine.make_url(url)
        _ = parsed.port  # a port that is not a number fails here, not at the first query
    except (sa.exc.ArgumentError, ValueError):
        raise UsageError(f"ADU_STORE_URL is not a database URL: {redact_url(url)!r}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UsageError(f"ADU_STORE_URL must be a sqlite:/// or postgresql:// URL, not {redact_url(url)!r}")
    if backend != "sqlite":
        if parsed.drivername == "postgresql":  # the driver ADU ships, not SQLAlchemy's default
            parsed = parsed.set(drivername="postgresql+psycopg2")
        try:
            return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT})
        except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ValueError, TypeError) as exc:
            raise UsageError(f"ADU_STORE_URL cannot be used: {redact_url(url)!r} ({exc})") from None
    db = parsed.database
    if db and db != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    # connections are kept open for the process (a pool, not one connection per call):
    # closing the last connection to a WAL database checkpoints it, two fsyncs each time
    # (0.4 s of a 1-row export's start-up when every store call closed its connection)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=-1,
    )

    @sa.event.listens_for(engine, "connect")
    def _owner(_dbapi_conn: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @sa.event.listens_for(engine, "checkout")
    def _same_process(_dbapi_conn: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():  # inherited through fork: never shared
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa.exc.DisconnectionError("a connection of the parent process")

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # autocommit at the driver level; SQLAlchemy emits BEGIN itself (see below)
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # writers take the write lock at the start, so concurrent claims serialize
        # cleanly instead of failing on a lock upgrade; readers never block
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("adu_write") else "BEGIN")

    return engine
