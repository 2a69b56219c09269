"""Worker side of a load: one part of a table (e.g. one Parquet file) COPYed into the
table's staging table, exactly once.

Each part runs in its own transaction on its own connection: ``COPY staging FROM STDIN``
then a row in the staging table's ledger (``<staging>_parts``, primary key: the part's
name), committed together. A part whose COPY fails inserts nothing; a part retried after
its commit was lost on the way (connection dropped during COMMIT) finds its ledger row
and adds nothing again; two attempts of one part at once cannot both commit (the ledger's
key). So a retry never duplicates rows. Several parts of one table load at once, each
over its own connection, into the same staging table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import psycopg2
import pyarrow as pa
from adu_core.models import TableInfo
from psycopg2 import sql

from adu_postgres.connection import close_quietly, connect
from adu_postgres.copyin import CopyIn
from adu_postgres.copystream import PgCopyError
from adu_postgres.encoder import (
    KIND_TEXT,
    EncodeError,
    Encoder,
    LoadColumn,
    base_from_text,
    field_facts,
    plan_column,
)
from adu_postgres.loaderror import LoadError, load_error

STAGE_PREFIX = "_adu_stage_"


def stage_name(job_id: str, table: TableInfo) -> str:
    """The staging table of ``table`` for job ``job_id``: ``_adu_stage_<job>_<table>``
    (8 hex digits each: deterministic, so every worker finds it without being told)."""
    job = hashlib.sha256(job_id.encode()).hexdigest()[:8]
    key = hashlib.sha256(f"{table.schema}\x00{table.name}".encode()).hexdigest()[:8]
    return f"{STAGE_PREFIX}{job}_{key}"


def ledger_name(stage: str) -> str:
    return f"{stage}_parts"


def plan_table(table: TableInfo, schema: pa.Schema | None = None) -> list[LoadColumn]:
    """The encoder's plan for ``table`` (``schema``: the data's Arrow schema, whose field
    metadata may add facts; default: the table's own)."""
    schema = schema if schema is not None else table.arrow_schema()
    if len(schema) != len(table.columns):
        raise EncodeError(f"the data has {len(schema)} columns, {table.qualified_name} has {len(table.columns)}")
    facts = list(((table.properties or {}).get("pg_types") or {}).get("columns") or [])
    vertica = (table.properties or {}).get("source_kind") == "vertica"  # see targetddl.vertica_type
    out = []
    for i, (field, col) in enumerate(zip(schema, table.columns, strict=True)):
        renamed = (field.metadata or {}).get(b"adu.original_name") == col.name.encode()  # the portable profile
        if field.name != col.name and not renamed:
            raise EncodeError(f"column {i + 1} of the data is {field.name!r}, the table's is {col.name!r}")
        props = col.properties or {}
        base = str(facts[i].get("base") or "") if len(facts) == len(table.columns) else ""
        if base.startswith("_"):  # an array: the element's name does not matter here
            base = ""
        if not base:
            base = base_from_text(str(props.get("base_type") or col.source_type))
        encoding, infinity = field_facts(field, props)
        if vertica and (pa.types.is_list(field.type) or pa.types.is_struct(field.type)) and base != "timetz":
            out.append(LoadColumn(field.name, KIND_TEXT, pa.string(), base, json=True))  # ARRAY/SET/ROW: JSON text
            continue
        out.append(plan_column(field, base=base, encoding=encoding, infinity=infinity))
    return out


class PartitionLoad:
    """COPYs the batches of one part into the staging table; :meth:`close` commits.

    :param url: the target's libpq URL.
    :param table: the table as the manifest describes it.
    :param schema: the target schema (after the schema mapping).
    :param stage: the staging table's name (:func:`stage_name`).
    :param part: the part's name, unique within the table (e.g. the file's path).
    :param conn: an open connection to use (idle, autocommit; kept open afterwards);
        default: a connection of its own.
    :param data_schema: the Arrow schema of the batches (a Parquet file's), whose field
        metadata carries the export's encodings; default: the table's.
    :param text_format: force COPY's text format (True) or refuse it (False); default:
        text only when a column needs it (measuring, diagnosing).
    """

    def __init__(
        self,
        url: str,
        table: TableInfo,
        *,
        schema: str,
        stage: str,
        part: str,
        options: Mapping[str, Any] | None = None,
        conn: Any = None,
        data_schema: pa.Schema | None = None,
        text_format: bool | None = None,
    ) -> None:
        self.table = table
        self.part = part
        self.rows = 0
        self.skipped = False
        self._own = conn is None
        self._copy: CopyIn | None = None
        self.encoder = Encoder(plan_table(table, data_schema), text=text_format)
        self.conn = conn if conn is not None else connect(url, options or {}, application_name="adu load")
        self._user = getattr(getattr(self.conn, "info", None), "user", None)
        self._ledger = sql.Identifier(schema, ledger_name(stage))
        self._context = f"loading {table.qualified_name} ({part})"
        try:
            with self.conn.cursor() as cur:
                cur.execute("SET lc_monetary = 'C'")  # money in the text format: see encoder.py
                cur.execute("BEGIN")
                cur.execute(sql.SQL("SELECT rows FROM {} WHERE part = %s").format(self._ledger), (part,))
                done = cur.fetchone()
            if done is not None:  # an earlier attempt committed this part
                self.skipped, self.rows = True, int(done[0])
                return
            columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
                sql.Identifier(schema, stage), columns, sql.SQL(self.encoder.copy_format)
            )
            self._copy = CopyIn(self.conn, copy_sql.as_string(self.conn), self.encoder)
        except (psycopg2.Error, PgCopyError) as exc:
            self._fail()
            raise load_error(exc, context=self._context, user=self._user, stage="copying") from None

    def write(self, batch: pa.RecordBatch) -> int:
        """Send one batch; the rows sent so far."""
        if self.skipped:
            return self.rows
        if self._copy is None:
            raise LoadError(f"{self._context}: the part is closed")
        try:
            self._copy.write(batch)
        except EncodeError as exc:
            self._fail(str(exc))
            raise LoadError(f"{self._context}: {exc}") from None
        except PgCopyError as exc:
            self._fail()
            raise load_error(exc, context=self._context, user=self._user, stage="copying") from None
        self.rows = self._copy.rows
        return self.rows

    def close(self) -> int:
        """End the COPY and commit it with the part's ledger row; the part's rows."""
        if self.skipped:
            self._release()
            return self.rows
        if self._copy is None:
            raise LoadError(f"{self._context}: the part is closed")
        try:
            self.rows = self._copy.finish()
            self._copy = None
            with self.conn.cursor() as cur:
                cur.execute(
                    sql.SQL("INSERT INTO {} (part, rows) VALUES (%s, %s)").format(self._ledger), (self.part, self.rows)
                )
                cur.execute("COMMIT")
        except (psycopg2.Error, PgCopyError) as exc:
            self._fail()
            raise load_error(exc, context=self._context, user=self._user, stage="copying") from None
        self._release()
        return self.rows

    def abort(self) -> None:
        """Abandon the part: nothing of it stays in the staging table."""
        self._fail("aborted")

    def _fail(self, reason: str = "failed") -> None:
        if self._copy is not None:
            self._copy.abort(reason)
            self._copy = None
        try:
            if not self.conn.closed:
                with self.conn.cursor() as cur:
                    cur.execute("ROLLBACK")
        except psycopg2.Error:
            close_quietly(self.conn)
        self._release()

    def _release(self) -> None:
        if self._own:
            close_quietly(self.conn)
