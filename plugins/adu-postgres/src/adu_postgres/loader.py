"""Coordinator side of loading one table into PostgreSQL: staging, then one atomic publish.

:class:`TableLoad` is what a sink holds per table::

    load = TableLoad(url, table, job_id=job, if_exists="fail", schema_map={"src": "dst"})
    load.prepare()              # checks --if-exists, creates types, schema and the staging table
    ... PartitionLoad(url, table, schema=load.schema, stage=load.stage, part=f).close()  # workers
    result = load.publish()     # keys and indexes, then one transaction; or load.discard()

The rows go into ``<schema>._adu_stage_<job>_<table>`` first (one COPY per part, several
at once, see :mod:`adu_postgres.partload`); the target only changes in :meth:`publish`,
in one transaction, per ``if_exists``:

``fail`` (default)
    The target must not exist: checked in :meth:`prepare`, before any row moves, and
    again when the staging table is renamed into place.
``replace``
    Constraints and indexes are built on the staging table, then in one transaction the
    old table is dropped (refused, target unchanged, when views or foreign keys depend on
    it) and the staging table renamed in, its indexes renamed to their final names.
``truncate`` / ``append``
    The staging table is UNLOGGED (it is never published); one transaction truncates the
    target (``truncate``) and inserts the staged rows, columns matched by name, so
    PostgreSQL's assignment casts decide whether a value still fits (a narrower column
    fails the transaction, target unchanged).

A target that does not exist is created by ``truncate`` and ``append`` too. A kill, a
lost connection or any failure leaves the target as it was; the staging table left behind
is dropped by the next load into the same schema (:func:`clean_stale`: a staging table is
stale when no session holds its advisory lock).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import attrs
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pyarrow as pa
from adu_core.errors import UsageError
from adu_core.models import TableInfo
from psycopg2 import sql

from adu_postgres.connection import close_quietly, connect
from adu_postgres.encoder import KIND_MONEY
from adu_postgres.loaderror import LoadError, load_error
from adu_postgres.partload import STAGE_PREFIX, ledger_name, plan_table, stage_name
from adu_postgres.targetddl import TargetTypeError, create_table, ensure_types, map_schema, post_data

IF_EXISTS = ("fail", "replace", "truncate", "append")
#: advisory lock (first key; second: hashtext of the staging table's name) held by the
#: coordinator of a load for as long as its staging table is in use
STAGE_LOCK = 0x41445553
#: advisory lock (one key, per transaction) taken by a table's preparation before it creates
#: schemas, types and its staging table: the tables of a load are prepared in parallel, and two
#: transactions creating the same new schema (or enum, domain...) both pass ``IF NOT EXISTS``
#: and the second fails on pg_namespace's unique key; in turn, the second sees the first's
DDL_LOCK = 0x41445544
# how long a run waits for the staging lock of its table: the backend of a run that was just
# killed holds it until PostgreSQL notices the closed connection (a COPY waiting on a lock
# notices only when it resumes), so a retry started at once waits for it rather than failing
STAGE_LOCK_WAIT_SECONDS = 30.0
#: parallel workers per key or index build, by default the server's own
#: ``max_parallel_maintenance_workers`` (None: not set; PostgreSQL's default is 2). The key is
#: built after every row is in, when the load's other connections are done and a core is free:
#: on the 3M-row mixed table (bench/pg_load.py --paths adu:2,adu-kw1:2,adu-kw2:2, stop 26,
#: 2 cores) the load took 9.04 s with one backend, 8.43 s with 1 worker, 8.32 s with 2, for
#: the same server CPU within 1%. An earlier machine showed ~40% more CPU for the key with
#: workers and no gain in wall time; ``key_workers=0`` keeps one backend.
KEY_WORKERS: int | None = None

log = logging.getLogger("adu.load.postgres")


@attrs.frozen
class LoadResult:
    """A published table: where, how many rows, how it got there."""

    schema: str
    name: str
    rows: int
    if_exists: str
    created: bool
    copy_format: str


def clean_stale(cur: Any, schema: str) -> list[str]:
    """Drop the staging tables in ``schema`` that no running load holds; their names."""
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname LIKE %s AND c.relname NOT LIKE %s",
        (schema, STAGE_PREFIX.replace("_", r"\_") + "%", r"%\_parts"),
    )
    dropped = []
    for (name,) in cur.fetchall():
        cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (STAGE_LOCK, name))
        if cur.fetchone()[0]:
            try:
                cur.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}, {}").format(
                        sql.Identifier(schema, name), sql.Identifier(schema, ledger_name(name))
                    )
                )
                dropped.append(name)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (STAGE_LOCK, name))
    return dropped


class TableLoad:
    """Loads one table: :meth:`prepare`, parts by workers, then :meth:`publish` or :meth:`discard`.

    :param url: the target's libpq URL (password rules as for sources).
    :param table: the table as the manifest describes it (columns with source and Arrow
        types, nullability, keys; ``properties["pg_types"]`` when the export recorded it).
    :param job_id: the load job's id (names the staging table).
    :param if_exists: ``fail``, ``replace``, ``truncate`` or ``append``.
    :param schema_map: source schema -> target schema (tables and their user types).
    :param options: connection options (``password_file``, ``lock_timeout``, ...),
        ``maintenance_work_mem`` for building keys and indexes (default 256MB) and
        ``key_workers``, the parallel workers PostgreSQL may use for each of those builds
        (``max_parallel_maintenance_workers``; default: the server's own setting, see
        :data:`KEY_WORKERS`; 0: the loading backend builds each alone).
    :param data_schema: the Arrow schema of the data (a Parquet file's, whose field
        metadata carries ``adu.encoding``); default: the table's.
    """

    def __init__(
        self,
        url: str,
        table: TableInfo,
        *,
        job_id: str,
        if_exists: str = "fail",
        schema_map: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        data_schema: pa.Schema | None = None,
    ) -> None:
        if if_exists not in IF_EXISTS:
            raise UsageError(f"--if-exists must be one of: {', '.join(IF_EXISTS)}")
        self.url = url
        self.table = table
        self.if_exists = if_exists
        self.schema_map = dict(schema_map or {})
        self.options = dict(options or {})
        self.schema = map_schema(table.schema, self.schema_map)
        #: memory the server may use to build a key or index (raised to this, never lowered)
        self.maintenance_work_mem = str(self.options.get("maintenance_work_mem", "256MB"))
        #: parallel workers per key or index build (max_parallel_maintenance_workers)
        workers = self.options.get("key_workers", KEY_WORKERS)
        self.key_workers: int | None = None if workers is None else int(workers)
        self.name = table.name
        self.job_id = job_id
        self.stage = stage_name(job_id, table)
        self.label = f"{self.schema}.{self.name}"
        self.columns = plan_table(table, data_schema)
        self._conn: Any = None
        self._user: str | None = None
        self._unlogged = False
        self._existed = False

    # -- helpers ------------------------------------------------------------------------------

    def _ident(self, name: str | None = None) -> sql.Identifier:
        return sql.Identifier(self.schema, name or self.name)

    def _target_exists(self, cur: Any) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (self._ident().as_string(cur),))
        return bool(cur.fetchone()[0])

    def _fail(self, exc: BaseException, context: str, stage: str = "") -> LoadError:
        return load_error(exc, context=f"{context} {self.label}", user=self._user, stage=stage)

    # -- coordinator ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Check ``if_exists`` against the target, create the schema, the user types and
        the staging table. Raises :class:`LoadError` (or :class:`UsageError` for a type the
        target lacks) before any row moves."""
        self._conn = connect(self.url, self.options, application_name="adu load")
        self._user = getattr(getattr(self._conn, "info", None), "user", None)
        try:
            with self._conn.cursor() as cur:
                self._take_stage_lock(cur)
                cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,))
                schema_exists = cur.fetchone() is not None
                if schema_exists:
                    clean_stale(cur, self.schema)
                self._existed = schema_exists and self._target_exists(cur)
                self._check_policy(cur)
                self._check_money(cur)
                cur.execute("BEGIN")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))  # until COMMIT, below
                if not schema_exists:
                    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                names = ensure_types(cur, (self.table.properties or {}).get("pg_types"), self.schema_map)
                self._unlogged = self._existed and self.if_exists in ("truncate", "append")
                cur.execute(create_table(self.table, self.schema, self.stage, names, unlogged=self._unlogged))
                cur.execute(
                    sql.SQL("CREATE TABLE {} (part text PRIMARY KEY, rows bigint NOT NULL)").format(
                        self._ident(ledger_name(self.stage))
                    )
                )
                for name in (self.stage, ledger_name(self.stage)):  # what a reader of the schema sees
                    cur.execute(
                        sql.SQL("COMMENT ON TABLE {} IS {}").format(self._ident(name), sql.Literal(self._note()))
                    )
                cur.execute("COMMIT")
        except (LoadError, UsageError):
            self.discard()
            raise
        except psycopg2.Error as exc:
            self.discard()
            raise self._fail(exc, "preparing", "creating") from None

    def _take_stage_lock(self, cur: Any) -> None:
        """Hold this table's staging lock for the session; wait a while for a run that
        was killed to let go of it, then refuse (another run of this job is loading it)."""
        deadline = time.monotonic() + STAGE_LOCK_WAIT_SECONDS
        waited = False
        while True:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (STAGE_LOCK, self.stage))
            if cur.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise LoadError(f"{self.label} is being loaded by another run of this job")
            if not waited:
                log.info("%s: waiting for another run of this job to let go of its staging table", self.label)
                waited = True
            time.sleep(0.2)

    def _note(self) -> str:
        return (
            f"adu load staging of {self.label} (job {self.job_id}): not data. It becomes the table when"
            " the load publishes it; left by a stopped load, the next load into this schema drops it."
        )

    def _check_policy(self, cur: Any) -> None:
        if not self._existed:
            return
        if self.if_exists == "fail":
            raise LoadError(
                f"{self.label} already exists on the target (--if-exists fail); use replace, truncate or append"
            )
        if self.if_exists in ("truncate", "append"):
            cur.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (self._ident().as_string(cur),),
            )
            have = {r[0] for r in cur.fetchall()}
            missing = [c.name for c in self.table.columns if c.name not in have]
            if missing:
                raise LoadError(f"{self.label} on the target has no column(s) {missing} (--if-exists {self.if_exists})")

    def _check_money(self, cur: Any) -> None:
        """money is an int64 of minor units whose scale is the session's lc_monetary: the
        target's must match the export's or every amount would change."""
        money = [c for c in self.columns if c.kind == KIND_MONEY]
        if not money:
            return
        cur.execute("SELECT scale('1'::money::numeric)")
        scale = int(cur.fetchone()[0])
        for c in money:
            if getattr(c.arrow_type, "scale", scale) != scale:
                raise LoadError(
                    f"{self.label}: column {c.name!r} holds money with {c.arrow_type.scale} fractional digits,"
                    f" the target's lc_monetary has {scale}: set lc_monetary on the target database to the source's"
                )

    def rows_staged(self) -> int:
        """Rows the committed parts put into the staging table."""
        with self._conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT coalesce(sum(rows), 0) FROM {}").format(self._ident(ledger_name(self.stage))))
            return int(cur.fetchone()[0])

    def stage_empty_rows(self, rows: int) -> None:
        """A table without columns: stage ``rows`` rows (what its export's placeholder
        column carried), recorded in the ledger like a part."""
        try:
            with self._conn.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute(
                    sql.SQL("INSERT INTO {} SELECT FROM generate_series(1, %s)").format(self._ident(self.stage)),
                    (rows,),
                )
                cur.execute(
                    sql.SQL("INSERT INTO {} VALUES ('rows', %s)").format(self._ident(ledger_name(self.stage))),
                    (rows,),
                )
                cur.execute("COMMIT")
        except psycopg2.Error as exc:
            raise self._fail(exc, "staging", "copying") from None

    def done_parts(self) -> set[str]:
        """Names of the parts already committed (a retried part among them adds nothing)."""
        with self._conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT part FROM {}").format(self._ident(ledger_name(self.stage))))
            return {str(r[0]) for r in cur.fetchall()}

    def publish(self, *, expected_rows: int | None = None) -> LoadResult:
        """Make the staged rows the target's, atomically (see the module docstring)."""
        if self._conn is None:
            raise LoadError(f"{self.label}: publish() before prepare()")
        try:
            rows = self.rows_staged()
            if expected_rows is not None and rows != expected_rows:
                raise LoadError(f"{self.label}: {rows} rows staged, the export holds {expected_rows}")
            with self._conn.cursor() as cur:
                existed = self._target_exists(cur)
                if existed and self.if_exists in ("truncate", "append"):
                    self._insert(cur)
                else:
                    self._swap(cur, existed)
        except LoadError:
            self.discard()
            raise
        except psycopg2.Error as exc:
            self.discard()
            raise self._fail(exc, "publishing", "publishing") from None
        self.discard()
        return LoadResult(
            self.schema, self.name, rows, self.if_exists, not existed, "text" if self._text_format() else "binary"
        )

    def _text_format(self) -> bool:
        return any(c.needs_text for c in self.columns)

    def _swap(self, cur: Any, existed: bool) -> None:
        """The staging table becomes the target: keys and indexes first, then one transaction."""
        stmts, renames = post_data(self.table, self.schema, self.stage, lambda i: f"{self.stage}_i{i}")
        if stmts:  # index builds sort in memory up to maintenance_work_mem: give them room
            cur.execute(
                "SELECT set_config('maintenance_work_mem', %s, false)"
                " WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
                (self.maintenance_work_mem, self.maintenance_work_mem),
            )
            if self.key_workers is not None:
                cur.execute(
                    "SELECT set_config('max_parallel_maintenance_workers', %s, false)", (str(self.key_workers),)
                )
        for stmt in stmts:
            cur.execute(stmt)
        cur.execute("BEGIN")
        if existed and self.if_exists == "fail":
            cur.execute("ROLLBACK")
            raise LoadError(f"{self.label} appeared on the target during the load (--if-exists fail)")
        if existed:
            cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(self._ident()))
            try:
                cur.execute(sql.SQL("DROP TABLE {}").format(self._ident()))
            except psycopg2.errors.DependentObjectsStillExist as exc:
                cur.execute("ROLLBACK")
                detail = " ".join(str(exc.diag.message_detail or "").split())
                raise LoadError(
                    f"cannot replace {self.label}: other objects depend on it ({detail});"
                    " --if-exists truncate keeps them"
                ) from None
        if self._unlogged:
            cur.execute(sql.SQL("ALTER TABLE {} SET LOGGED").format(self._ident(self.stage)))
        cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(self._ident(self.stage), sql.Identifier(self.name)))
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS NULL").format(self._ident()))
        for tmp, final in renames:
            cur.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(self._ident(tmp), sql.Identifier(final)))
        cur.execute(sql.SQL("DROP TABLE {}").format(self._ident(ledger_name(self.stage))))
        cur.execute("COMMIT")

    def _insert(self, cur: Any) -> None:
        """truncate / append: one transaction inserting the staged rows into the target."""
        cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.table.columns)
        mode = "ACCESS EXCLUSIVE" if self.if_exists == "truncate" else "ROW EXCLUSIVE"
        cur.execute("BEGIN")
        try:
            cur.execute(sql.SQL("LOCK TABLE {} IN {} MODE").format(self._ident(), sql.SQL(mode)))
            if self.if_exists == "truncate":
                cur.execute(sql.SQL("TRUNCATE {}").format(self._ident()))
            if self.table.columns:
                insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                    self._ident(), cols, cols, self._ident(self.stage)
                )
            else:  # a table without columns: its rows only
                insert = sql.SQL("INSERT INTO {} SELECT FROM {}").format(self._ident(), self._ident(self.stage))
            cur.execute(insert)
            cur.execute("COMMIT")
        except psycopg2.Error as exc:
            with contextlib.suppress(psycopg2.Error):
                cur.execute("ROLLBACK")
            raise self._fail(exc, f"--if-exists {self.if_exists} into", "publishing") from None

    def discard(self) -> None:
        """Drop the staging table (and its ledger) and release the lock; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception), conn.cursor() as cur:
            if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                cur.execute("ROLLBACK")
            cur.execute(
                sql.SQL("DROP TABLE IF EXISTS {}, {}").format(
                    self._ident(self.stage), self._ident(ledger_name(self.stage))
                )
            )
            cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (STAGE_LOCK, self.stage))
        close_quietly(conn)


__all__ = ["IF_EXISTS", "LoadError", "LoadResult", "TableLoad", "TargetTypeError", "clean_stale"]
