"""Loading Arrow record batches into a Vertica table: staged, then published atomically.

The building block of a Vertica sink (``adu load DIR vertica://...``), in three steps
shaped like a sink's life cycle (coordinator / workers / coordinator):

1. :func:`begin_table` (coordinator): checks the target against ``if_exists``, creates
   a staging table beside it (from the type map of :mod:`adu_vertica.typemap`, or
   ``LIKE`` the existing target for ``truncate``/``append``) and returns a picklable
   :class:`StagedTable`;
2. :func:`copy_batches` (any process, once per Parquet file, several at once): one
   ``COPY staging (...) FROM STDIN NATIVE ABORT ON ERROR ENFORCELENGTH`` through
   vertica-python's ``Cursor.copy``, the batches encoded by :mod:`adu_vertica.native`
   while they stream; the rows Vertica accepted are checked against the rows sent;
3. :func:`publish_table` (coordinator): checks the staging table holds exactly the
   expected rows, then publishes it in one atomic step:

   ``fail``      ``ALTER TABLE s.staging RENAME TO target`` (refused if it exists)
   ``replace``   ``ALTER TABLE s.target, s.staging RENAME TO old, target`` (Vertica renames
                 all or none), then ``DROP TABLE old``
   ``truncate``  one transaction: ``DELETE FROM target``; ``INSERT INTO target SELECT ...
                 FROM staging``; ``COMMIT`` (the table object, its grants and projections stay)
   ``append``    one transaction: ``INSERT INTO target SELECT ... FROM staging``; ``COMMIT``

   ``truncate`` and ``append`` create the table (as ``fail`` does) when it does not exist.

Until step 3 the target is untouched: a CopyFail (the batches' source failing, a value
the column cannot hold), a rejected row or a dropped connection leaves it as it was, and
:func:`discard_table` drops the staging table. A retry starts the table again from
:func:`begin_table` (with the same ``job_id`` it replaces that attempt's staging table).
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
from adu_core.errors import AduError, SourceError, UsageError
from vertica_python import errors as verrors

from adu_vertica.connect import connect
from adu_vertica.native import EncodeError, NativeStream
from adu_vertica.typemap import TargetColumn, existing_columns, plan_columns, text_columns
from adu_vertica.types import quote_ident

IF_EXISTS = ("fail", "replace", "truncate", "append")


class LoadError(AduError):
    """A table could not be loaded (one line; ``retryable`` for a lost connection)."""

    def __init__(self, message: str, *, sqlstate: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.retryable = retryable


@attrs.frozen
class StagedTable:
    """A table being loaded: the target, its staging table and the column plan (picklable).

    :param existed: the target existed when the load began (``truncate``/``append`` then
        load into its own column types).
    """

    schema: str
    table: str
    staging: str
    columns: tuple[TargetColumn, ...]
    if_exists: str
    existed: bool

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def text_columns(self) -> dict[str, str]:
        """Columns kept as text (name -> why), for the job report."""
        return text_columns(self.columns)

    def _name(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def copy_sql(self) -> str:
        cols = ", ".join(quote_ident(c.name) for c in self.columns)
        return f"COPY {self._name(self.staging)} ({cols}) FROM STDIN NATIVE ABORT ON ERROR ENFORCELENGTH"


@attrs.frozen
class LoadResult:
    """What :func:`publish_table` did: ``action`` is created, replaced, truncated or appended."""

    schema: str
    table: str
    rows: int
    action: str
    text_columns: Mapping[str, str]


def _staging_name(table: str, job_id: str | None, what: str = "load") -> str:
    token = re.sub(r"[^0-9A-Za-z]", "", job_id or "")[:16] or secrets.token_hex(6)
    head = table.encode()[:90].decode("utf-8", errors="ignore")
    return f"{head}__adu_{what}_{token}"


def begin_table(
    url: str,
    *,
    schema: str,
    table: str,
    arrow_schema: pa.Schema,
    if_exists: str = "fail",
    primary_key: Sequence[str] = (),
    job_id: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> StagedTable:
    """Coordinator: check the target and create the staging table the files load into."""
    if if_exists not in IF_EXISTS:
        raise UsageError(f"if_exists must be one of {', '.join(IF_EXISTS)}")
    what = f"loading {schema}.{table}"
    with _connection(url, options, what) as cur:
        existed = _exists(cur, schema, table)
        if existed and if_exists == "fail":
            raise UsageError(
                f"target table {schema}.{table} already exists (choose --if-exists replace, truncate or append)"
            )
        staging = _staging_name(table, job_id)
        cur.execute("SELECT COUNT(*) FROM v_catalog.schemata WHERE schema_name = %s", [schema])
        if not int(cur.fetchone()[0]):
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        cur.execute(f"DROP TABLE IF EXISTS {quote_ident(schema)}.{quote_ident(staging)} CASCADE")
        if existed and if_exists in ("truncate", "append"):
            types = _target_columns(cur, schema, table)
            columns = existing_columns(arrow_schema, {n: t for n, (t, _) in types.items()})
            missing = [n for n, (_, nullable) in types.items() if not nullable and n not in arrow_schema.names]
            if missing:
                raise UsageError(f"the target's NOT NULL column {missing[0]!r} is not in the export")
            cur.execute(
                f"CREATE TABLE {quote_ident(schema)}.{quote_ident(staging)} LIKE "
                f"{quote_ident(schema)}.{quote_ident(table)} INCLUDING PROJECTIONS"
            )
        else:
            columns = plan_columns(arrow_schema)
            defs = [c.definition() for c in columns]
            if primary_key:
                defs.append("PRIMARY KEY (" + ", ".join(quote_ident(c) for c in primary_key) + ")")
            cur.execute(f"CREATE TABLE {quote_ident(schema)}.{quote_ident(staging)} ({', '.join(defs)})")
    return StagedTable(schema, table, staging, tuple(columns), if_exists, existed)


def copy_batches(
    url: str, staged: StagedTable, batches: Iterable[pa.RecordBatch], *, options: Mapping[str, Any] | None = None
) -> int:
    """Worker: COPY the batches (one Parquet file's) into the staging table; rows loaded.

    The batches must have the columns of the export, in its order.
    """
    what = f"loading {staged.qualified}"
    stream = NativeStream(staged.columns, iter(batches))
    failure: BaseException | None = None
    with _connection(url, options, what) as cur:
        try:
            cur.copy(staged.copy_sql(), stream, buffer_size=1 << 20)
        except verrors.DataError:  # the driver sent CopyFail: the COPY loaded nothing
            if stream.error is None:
                raise
            failure = stream.error
        else:
            cur.execute("SELECT GET_NUM_ACCEPTED_ROWS(), GET_NUM_REJECTED_ROWS()")
            accepted, rejected = (int(x) for x in cur.fetchone())
    if isinstance(failure, AduError | EncodeError):
        raise LoadError(f"{what}: {failure}") from None
    if failure is not None:  # the batches' own source failed (a Parquet read, ...): as it is
        raise failure
    if accepted != stream.rows or rejected:
        raise LoadError(f"{what}: Vertica accepted {accepted} of {stream.rows} rows ({rejected} rejected)")
    return accepted


def publish_table(
    url: str, staged: StagedTable, *, expected_rows: int, options: Mapping[str, Any] | None = None
) -> LoadResult:
    """Coordinator: check the staging table's row count, then publish it atomically."""
    what = f"publishing {staged.qualified}"
    s, t, tmp = quote_ident(staged.schema), quote_ident(staged.table), quote_ident(staged.staging)
    with _connection(url, options, what) as cur:
        cur.execute(f"SELECT COUNT(*) FROM {s}.{tmp}")
        rows = int(cur.fetchone()[0])
        if rows != expected_rows:
            raise LoadError(f"{what}: the staging table holds {rows} rows, {expected_rows} were loaded")
        exists = _exists(cur, staged.schema, staged.table)
        if exists and staged.if_exists in ("truncate", "append") and staged.existed:
            cols = ", ".join(quote_ident(c.name) for c in staged.columns)
            conn = cur.connection
            conn.autocommit = False
            try:
                if staged.if_exists == "truncate":
                    cur.execute(f"DELETE FROM {s}.{t}")
                cur.execute(f"INSERT INTO {s}.{t} ({cols}) SELECT {cols} FROM {s}.{tmp}")
                inserted = int(cur.fetchall()[0][0])
                if inserted != rows:
                    raise LoadError(f"{what}: {inserted} rows went in, not {rows}")
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                raise
            finally:
                with contextlib.suppress(Exception):
                    conn.autocommit = True
            cur.execute(f"DROP TABLE {s}.{tmp} CASCADE")
            action = "truncated" if staged.if_exists == "truncate" else "appended"
        elif exists and staged.if_exists == "replace":
            old = quote_ident(_staging_name(staged.table, staged.staging[-12:], "old"))
            cur.execute(f"ALTER TABLE {s}.{t}, {s}.{tmp} RENAME TO {old}, {t}")
            cur.execute(f"DROP TABLE {s}.{old} CASCADE")
            action = "replaced"
        elif exists:
            raise UsageError(f"target table {staged.qualified} was created by someone else during the load")
        else:
            cur.execute(f"ALTER TABLE {s}.{tmp} RENAME TO {t}")
            action = "created"
    return LoadResult(staged.schema, staged.table, rows, action, staged.text_columns)


def discard_table(url: str, staged: StagedTable, *, options: Mapping[str, Any] | None = None) -> None:
    """Coordinator: drop the staging table of a load that failed (the target is untouched)."""
    with _connection(url, options, f"discarding the staging table of {staged.qualified}") as cur:
        cur.execute(f"DROP TABLE IF EXISTS {quote_ident(staged.schema)}.{quote_ident(staged.staging)} CASCADE")


def load_table(
    url: str,
    *,
    schema: str,
    table: str,
    arrow_schema: pa.Schema,
    files: Iterable[Iterable[pa.RecordBatch]],
    if_exists: str = "fail",
    primary_key: Sequence[str] = (),
    options: Mapping[str, Any] | None = None,
) -> LoadResult:
    """All three steps in one process: each item of ``files`` is one COPY."""
    staged = begin_table(
        url,
        schema=schema,
        table=table,
        arrow_schema=arrow_schema,
        if_exists=if_exists,
        primary_key=primary_key,
        options=options,
    )
    try:
        rows = sum(copy_batches(url, staged, batches, options=options) for batches in files)
        return publish_table(url, staged, expected_rows=rows, options=options)
    except BaseException:
        with contextlib.suppress(Exception):
            discard_table(url, staged, options=options)
        raise


# ------------------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _connection(url: str, options: Mapping[str, Any] | None, what: str) -> Any:
    """A cursor on a new connection; driver errors become one-line :class:`LoadError`."""
    try:
        conn = connect(url, options)
    except SourceError as e:  # ConnectError stays a usage error (exit 2)
        if isinstance(e, UsageError):
            raise
        raise LoadError(f"{what}: {e}", sqlstate=e.sqlstate, retryable=True) from None
    try:
        yield conn.cursor()
    except (verrors.ConnectionError, OSError) as e:
        raise LoadError(f"{what}: connection to Vertica lost ({_first(e)})", retryable=True) from None
    except verrors.QueryError as e:
        raise _query_error(e, what) from None
    except verrors.Error as e:
        raise LoadError(f"{what}: {_first(e)}") from None
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def _query_error(e: Any, what: str) -> LoadError:
    sqlstate = getattr(e, "sqlstate", None)
    message = getattr(e, "error_response", None)
    text = message.error_message() if message is not None else _first(e)
    text = getattr(message, "message", None) or text
    if sqlstate == "42501":
        return LoadError(f"{what}: permission denied ({text}; SQLSTATE 42501)", sqlstate=sqlstate)
    if sqlstate == "22V04":
        return LoadError(f"{what}: Vertica rejected the data ({text})", sqlstate=sqlstate)
    if sqlstate in ("08006", "V1001", "57P01"):
        return LoadError(f"{what}: connection to Vertica lost ({text})", sqlstate=sqlstate, retryable=True)
    return LoadError(f"{what}: {text}" + (f" (SQLSTATE {sqlstate})" if sqlstate else ""), sqlstate=sqlstate)


def _first(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _exists(cur: Any, schema: str, table: str) -> bool:
    cur.execute(
        "SELECT COUNT(*) FROM v_catalog.tables WHERE table_schema = %s AND table_name = %s",
        [schema, table],
    )
    return int(cur.fetchone()[0]) > 0


def _target_columns(cur: Any, schema: str, table: str) -> dict[str, tuple[str, bool]]:
    cur.execute(
        "SELECT column_name, data_type, is_nullable FROM v_catalog.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, table],
    )
    return {name: (str(typ), bool(nullable)) for name, typ, nullable in cur.fetchall()}
