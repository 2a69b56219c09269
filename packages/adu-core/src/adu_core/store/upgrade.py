"""Upgrading an older store with Alembic: the one place the store imports SQLAlchemy and
Alembic at run time (:meth:`adu_core.store.base.StoreBase.migrate` calls it only when the
store's revision is not :data:`~adu_core.migrations.HEAD_REVISION`)."""

from __future__ import annotations

from typing import Any

from adu_core.store.db import CONNECT_TIMEOUT, POSTGRESQL, parse_url


def make_engine(url: str) -> Any:
    """A SQLAlchemy engine on the store at ``url``, set up as the store's own connections
    are (SQLite: WAL, busy timeout, foreign keys, ``BEGIN IMMEDIATE`` for every
    transaction; PostgreSQL: psycopg2 with a connect timeout); no pool."""
    import sqlalchemy as sa

    target = parse_url(url)
    if target.dialect == POSTGRESQL:
        import psycopg2

        def connect() -> Any:
            return psycopg2.connect(target.dsn, connect_timeout=CONNECT_TIMEOUT)

        return sa.create_engine("postgresql+psycopg2://", poolclass=sa.pool.NullPool, creator=connect)
    engine = sa.create_engine(
        f"sqlite:///{target.path or ':memory:'}", poolclass=sa.pool.NullPool, connect_args={"timeout": 30}
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock: one process upgrades

    return engine


def upgrade(url: str) -> None:
    """Bring the store at ``url`` to the latest revision with ``alembic upgrade head``
    (once: concurrent upgrades wait for each other and the later ones find nothing to do)."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == POSTGRESQL:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            cfg = Config()
            cfg.set_main_option("script_location", "adu_core:migrations")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
