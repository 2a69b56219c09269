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

from adu_core.errors import UsageError
from adu_core.secrets import redact_url


class StoreBase:
    """Access to the job store.

    :param url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    """

    def __init__(self, url: str, *, secret_key: str | None = None, migrate: bool = True) -> None:
        self.url = url
        self.secret_key = secret_key
        self.engine = make_engine(url)
        if migrate:
            self.migrate()

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings.store_url, secret_key=settings.secret_key)

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (a no-op when it is there)."""
        from adu_core.migrations import HEAD_REVISION

        try:
            with self.engine.connect() as conn:
                current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sa.exc.DBAPIError:
            current = None  # a new store
        if current == HEAD_REVISION:
            return  # every CLI call opens the store: skip Alembic's start-up when up to date
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", "adu_core:migrations")
        with self._tx() as conn:  # the write lock: concurrent starts migrate once
            if conn.dialect.name == "postgresql":
                # SQLite's BEGIN IMMEDIATE serializes; PostgreSQL needs an explicit lock
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

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


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for the store at ``url``; :class:`UsageError` for a bad URL."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(f"ADU_STORE_URL is not a database URL: {redact_url(url)!r}") from None
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    db = parsed.database
    if db and db != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=sa.pool.NullPool)

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
