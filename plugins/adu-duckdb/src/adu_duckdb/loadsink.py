"""The DuckDB load sink: ``adu load DIR duckdb:///path/file.duckdb``.

Each source column goes into DuckDB's closest *exact* type:

====================================  ==========================================
Arrow (as the export writes it)       DuckDB
====================================  ==========================================
bool, int16/32/64, uint32             BOOLEAN, SMALLINT/INTEGER/BIGINT, UINTEGER
float32/64                            FLOAT/DOUBLE (NaN, ±Infinity, -0.0 kept)
decimal128(p,s)                       DECIMAL(p,s)
date32, timestamp[us](, tz)           DATE, TIMESTAMP, TIMESTAMPTZ (DuckDB's own
                                      ±infinity is the export's ``extreme`` sentinel)
time64[us]                            TIME
int64 (``adu.encoding = time-micros``) TIME (the portable profile's time)
struct<months, days, microseconds>    INTERVAL (each part kept)
duration                              INTERVAL (microseconds: Vertica day-to-second)
arrow.uuid / fixed_size_binary(16)    UUID (the portable profile's ``uuid-bytes`` too)
string of a ``uuid`` source column    UUID (its 36-character text: ``uuid=text``, older exports)
binary                                BLOB
string                                VARCHAR
list<bool|int|float>                  T[]
struct<time, utc_offset_s>            TIMETZ (a Vertica ``timetz``: ``timetz_struct``,
                                      or the portable profile's ``timetz-micros``)
other lists and structs               DuckDB's LIST/STRUCT of the Arrow types as
                                      the file holds them (Vertica ARRAY/SET/ROW; the
                                      portable profile's ``portable-nested`` values
                                      inside as written: uuid 16 bytes, time µs)
====================================  ==========================================

Everything DuckDB has no exact type for stays text (VARCHAR holding PostgreSQL's text
output, exactly as exported), and the job report names those columns: values exported as
PostgreSQL text (unbounded numeric, timetz, ranges, composites, inet, multi-dimensional
arrays, hstore...) and decimals wider than DuckDB's 38 digits.

A table is loaded in one DuckDB transaction (create or empty or keep the table per
``--if-exists``, insert every batch, check the count, commit): a failure, a cancel or a kill
leaves the database file as it was. The primary key is declared with the table (DuckDB
cannot add one to a table that holds rows).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from adu_core import duck
from adu_core.errors import AduError, Cancelled, ConnectError, UsageError
from adu_core.models import SOURCE_TYPE_KEY, Partition, TableInfo
from adu_core.plugin.components import CancelToken, LoadedTable, LoadSink, Source

from adu_duckdb.source import path_from_url, quote_ident

TEXT_ENCODING = "postgresql-text"
#: the portable profile's ``time``: int64 microseconds since midnight (24:00:00 included)
TIME_MICROS_ENCODING = "time-micros"
BATCH_ROWS = 65536
_SIMPLE: dict[pa.DataType, str] = {
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint8(): "UTINYINT",
    pa.uint16(): "USMALLINT",
    pa.uint32(): "UINTEGER",
    pa.uint64(): "UBIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.time64("us"): "TIME",
    pa.binary(): "BLOB",
    pa.large_binary(): "BLOB",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
}


class LoadFailed(AduError):
    """A table could not be loaded; the DuckDB file is as it was."""


class Column:
    """How one column goes in: its DuckDB type, the SQL reading it from a batch, and the
    conversion the batch needs first (Arrow -> what DuckDB reads exactly)."""

    def __init__(self, field: pa.Field) -> None:
        self.name = field.name
        meta = field.metadata or {}
        encoding = meta.get(b"adu.encoding", b"").decode()
        typ = field.type
        ident = quote_ident(field.name)
        self.as_text = False
        self.convert: Callable[[pa.Array], pa.Array] | None = None
        self.select = ident
        source_type = meta.get(SOURCE_TYPE_KEY, b"").decode()
        if encoding == TIME_MICROS_ENCODING and pa.types.is_integer(typ):  # the portable profile's time
            self.sql = "TIME"
            self.convert = _time_micros
        elif encoding == TEXT_ENCODING and source_type == "uuid":  # the portable profile's uuid text
            self.sql = "UUID"
            self.select = f"CAST({ident} AS UUID)"
        elif encoding == TEXT_ENCODING:
            self.sql, self.as_text = "VARCHAR", True
        elif _is_uuid(typ):  # arrow.uuid (or its storage): 16 bytes, rendered as DuckDB reads a UUID
            self.sql = "UUID"
            self.convert = _uuid_storage
            h = f"lower(hex({ident}))"
            self.select = (
                f"CAST(substr({h},1,8)||'-'||substr({h},9,4)||'-'||substr({h},13,4)||'-'||"
                f"substr({h},17,4)||'-'||substr({h},21,12) AS UUID)"
            )
        elif pa.types.is_decimal(typ):
            if typ.precision <= 38:
                self.sql = f"DECIMAL({typ.precision},{typ.scale})"
            else:  # wider than DuckDB's DECIMAL: exact text
                self.sql, self.as_text = "VARCHAR", True
                self.convert = _decimal_text
        elif pa.types.is_timestamp(typ):
            self.sql = "TIMESTAMPTZ" if typ.tz else "TIMESTAMP"
            if typ.unit != "us":
                self.convert = lambda a, t=typ: a.cast(pa.timestamp("us", t.tz))
        elif pa.types.is_struct(typ) and [f.name for f in typ] == ["months", "days", "microseconds"]:
            self.sql = "INTERVAL"
            self.select = f"to_months({ident}.months) + to_days({ident}.days) + to_microseconds({ident}.microseconds)"
        elif (pa.types.is_list(typ) or pa.types.is_large_list(typ)) and typ.value_type in _SIMPLE:
            self.sql = f"{_SIMPLE[typ.value_type]}[]"
        elif pa.types.is_duration(typ):  # a Vertica interval day to second
            self.sql = "INTERVAL"
            self.convert = _duration_micros
            self.select = f"to_microseconds({ident})"
        elif pa.types.is_struct(typ) and [f.name for f in typ] == ["time", "utc_offset_s"]:  # Vertica's timetz
            self.sql = "TIMETZ"
            if pa.types.is_integer(typ.field(0).type):  # the portable profile's timetz-micros
                self.convert = _timetz_micros
            off = f"{ident}.utc_offset_s"
            self.select = (
                f"CAST(CAST({ident}.\"time\" AS VARCHAR) || CASE WHEN {off} < 0 THEN '-' ELSE '+' END"
                f" || CAST(TIME '00:00:00' + to_seconds(abs({off})) AS VARCHAR) AS TIMETZ)"
            )
        elif pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_struct(typ):
            readable = _without_decimal256(typ)  # DuckDB reads no decimal256: its exact text inside
            if readable != typ:
                self.convert = lambda a, t=readable: a.cast(t)
            self.sql = _nested_type(readable)  # DuckDB's own LIST/STRUCT of the values as the file holds them
        elif typ in _SIMPLE:
            self.sql = _SIMPLE[typ]
        else:  # anything else keeps its text form
            self.sql, self.as_text = "VARCHAR", True
            self.convert = lambda a: a.cast(pa.string())


def _is_uuid(typ: pa.DataType) -> bool:
    """``arrow.uuid`` (pyarrow's canonical extension type) or its 16-byte storage."""
    if isinstance(typ, pa.BaseExtensionType):
        return str(getattr(typ, "extension_name", "")) == "arrow.uuid"
    return bool(pa.types.is_fixed_size_binary(typ) and typ.byte_width == 16)


def _uuid_storage(arr: pa.Array) -> pa.Array:
    return arr.storage if isinstance(arr, pa.ExtensionArray) else arr


def _time_micros(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.time64("us"))


def _duration_micros(arr: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(arr, pa.duration("us")), pa.int64())


def _timetz_micros(arr: pa.Array) -> pa.Array:
    """Vertica's timetz with the local time as int64 microseconds: the time as TIME."""
    t = pc.struct_field(arr, [0]).cast(pa.time64("us"))
    o = pc.struct_field(arr, [1])
    mask = arr.is_null() if arr.null_count else None
    return pa.StructArray.from_arrays([t, o], names=["time", "utc_offset_s"], mask=mask)


def _without_decimal256(typ: pa.DataType) -> pa.DataType:
    """``typ`` with every decimal256 inside a list or struct as a string."""
    if pa.types.is_decimal256(typ):
        return pa.string()
    if pa.types.is_list(typ):
        return pa.list_(typ.value_field.with_type(_without_decimal256(typ.value_type)))
    if pa.types.is_large_list(typ):
        return pa.large_list(typ.value_field.with_type(_without_decimal256(typ.value_type)))
    if pa.types.is_struct(typ):
        return pa.struct([f.with_type(_without_decimal256(f.type)) for f in typ])
    return typ


def _nested_type(typ: pa.DataType) -> str:
    """The DuckDB type DuckDB itself gives an Arrow list or struct type."""
    con = duck.connect()  # extension downloads off, as every DuckDB connection of ADU
    try:
        empty = pa.Table.from_batches([], schema=pa.schema([pa.field("c", typ)]))
        return str(con.from_arrow(empty).types[0])
    finally:
        con.close()


def _decimal_text(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.string())


class DuckDBLoadSink(LoadSink):
    """Loads tables into a DuckDB database file, one transaction per table."""

    name = "duckdb"
    title = "DuckDB"
    schemes: ClassVar[tuple[str, ...]] = ("duckdb",)
    description = "each table in one transaction, DuckDB's closest exact types (the others kept as text, named)"

    def __init__(self, url: str, options: Any = None, *, job_id: str) -> None:
        super().__init__(url, options, job_id=job_id)
        self.path = path_from_url(url)
        if not self.path or self.path == ":memory:":
            raise UsageError("a DuckDB target is a file: duckdb:///path/to/file.duckdb")
        self._con: Any = None
        self._lock = threading.Lock()  # one table at a time: DuckDB parallelises each insert itself

    def _connect(self) -> Any:
        if self._con is None:
            import duckdb

            try:
                self._con = duck.connect(self.path)
            except duckdb.Error as exc:
                raise ConnectError(f"cannot open {self.path}: {str(exc).splitlines()[0]}") from None
        return self._con

    def check(self) -> None:
        self._connect()

    def check_loaded(self, table: TableInfo, loaded: LoadedTable) -> str | None:
        """A table an earlier run of this job published: still there with its rows."""
        import duckdb

        target = f"{quote_ident(loaded.schema)}.{quote_ident(loaded.name)}"
        with self._lock:
            cur = self._connect().cursor()
            try:
                rows = int(cur.execute(f"SELECT count(*) FROM {target}").fetchone()[0])
            except duckdb.CatalogException:
                return f"{loaded.schema}.{loaded.name} is not on the target"
            finally:
                cur.close()
        if rows < loaded.rows or (rows != loaded.rows and self.if_exists != "append"):
            return f"{loaded.schema}.{loaded.name} holds {rows} rows, {loaded.rows} were loaded"
        return None

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()

    def load_table(
        self,
        table: TableInfo,
        source: Source,
        partitions: Sequence[Partition],
        *,
        expected_rows: int | None,
        connections: int,
        cancel: CancelToken,
        report: Callable[[int], None],
    ) -> LoadedTable:
        import duckdb

        schema = self.target_schema(table.schema)
        label = f"{schema}.{table.name}"
        with self._lock:
            cur = self._connect().cursor()
            try:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
                return self._load(cur, table, source, partitions, schema, expected_rows, cancel, report)
            except (duckdb.Error, pa.ArrowException) as exc:
                raise LoadFailed(f"loading {label} into DuckDB: {str(exc).splitlines()[0][:300]}") from None
            finally:
                cur.close()

    def _load(
        self,
        cur: Any,
        table: TableInfo,
        source: Source,
        partitions: Sequence[Partition],
        schema: str,
        expected_rows: int | None,
        cancel: CancelToken,
        report: Callable[[int], None],
    ) -> LoadedTable:
        target = f"{quote_ident(schema)}.{quote_ident(table.name)}"
        label = f"{schema}.{table.name}"
        fields = _schema(table, partitions)
        columns = [Column(f) for f in fields]
        cur.execute("BEGIN TRANSACTION")
        try:
            exists = bool(
                cur.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
                    " AND schema_name = ? AND table_name = ?",
                    [schema, table.name],
                ).fetchone()[0]
            )
            if exists and self.if_exists == "fail":
                raise LoadFailed(
                    f"{label} already exists on the target (--if-exists fail); use replace, truncate or append"
                )
            if exists and self.if_exists == "replace":
                cur.execute(f"DROP TABLE {target}")
            if exists and self.if_exists == "truncate":
                cur.execute(f"DELETE FROM {target}")
            created = not exists or self.if_exists == "replace"
            if created:
                cur.execute(_create(target, table, columns))
            names = ", ".join(quote_ident(c.name) for c in columns)
            selects = ", ".join(c.select for c in columns)
            insert = f"INSERT INTO {target} ({names}) SELECT {selects} FROM adu_batch"
            rows = 0
            for part in partitions:
                for batch in source.read(part, snapshot={}, batch_rows=BATCH_ROWS, cancel=cancel):
                    if cancel.is_set():
                        raise Cancelled(f"loading {label} was cancelled; the target is unchanged")
                    adu_batch = _prepare(batch, columns)
                    cur.register("adu_batch", adu_batch)
                    cur.execute(insert)
                    cur.unregister("adu_batch")
                    rows += batch.num_rows
                    report(rows)
            if cancel.is_set():
                raise Cancelled(f"loading {label} was cancelled; the target is unchanged")
            if expected_rows is not None and rows != expected_rows:
                raise LoadFailed(f"{label}: {rows} rows read, the export holds {expected_rows}")
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # the transaction may be gone already
                cur.execute("ROLLBACK")
            raise
        return LoadedTable(
            schema=schema,
            name=table.name,
            rows=rows,
            created=created,
            text_columns=tuple(c.name for c in columns if c.as_text),
        )


def _schema(table: TableInfo, partitions: Sequence[Partition]) -> list[pa.Field]:
    """The Arrow fields of the data (a Parquet file's, with its metadata), else the table's."""
    for p in partitions:
        path = p.spec.get("path")
        if path:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path))
    return list(table.arrow_schema())


def _create(target: str, table: TableInfo, columns: Sequence[Column]) -> str:
    nullable = {c.name: c.nullable for c in table.columns}
    defs = [f"{quote_ident(c.name)} {c.sql}" + ("" if nullable.get(c.name, True) else " NOT NULL") for c in columns]
    if table.primary_key:
        defs.append("PRIMARY KEY (" + ", ".join(quote_ident(k) for k in table.primary_key) + ")")
    return f"CREATE TABLE {target} ({', '.join(defs)})"


def _prepare(batch: pa.RecordBatch, columns: Sequence[Column]) -> pa.Table:
    arrays = []
    for arr, col in zip(batch.columns, columns, strict=True):
        arrays.append(col.convert(arr) if col.convert is not None else arr)
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])
