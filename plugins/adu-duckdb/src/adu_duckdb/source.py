"""A DuckDB database file as a source: ``duckdb:///path/to/file.duckdb``, or a bare path
to a DuckDB file (:meth:`DuckDBSource.accepts`).

The file is opened read-only in every process (DuckDB allows several read-only readers),
with external access disabled and the configuration locked (a view in the file cannot
read another file of the server: ``read_text``, ``read_blob``, ``read_parquet``, ``ATTACH``
all fail), extensions never auto-installed or auto-loaded; big tables are split by
``rowid`` ranges.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
from adu_core import duck
from adu_core.errors import ConnectError, SourceError
from adu_core.lazy import lazy_module
from adu_core.models import ColumnInfo, Partition, SourceInfo, TableInfo
from adu_core.plugin.components import CancelToken, Source

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")  # imported when a DuckDB file is opened

#: rows per partition above which a table is split.
SPLIT_ROWS = 1_000_000


def quote_ident(name: str) -> str:
    """``name`` quoted as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def path_from_url(url: str, schemes: tuple[str, ...] = ("duckdb",)) -> str:
    parts = urlsplit(url)
    if parts.scheme in schemes:
        path = unquote(parts.netloc + parts.path)
        return path
    return url


def is_duckdb_file(path: str) -> bool:
    """True when ``path`` is a file whose header carries DuckDB's magic bytes."""
    try:
        with open(path, "rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


class DuckDBSource(Source):
    """Tables of a DuckDB database file."""

    name = "duckdb"
    title = "DuckDB"
    schemes = ("duckdb",)
    description = "DuckDB database files (duckdb:///path/file.duckdb); the demo's source"

    @classmethod
    def accepts(cls, url: str) -> bool:
        """``duckdb://`` URLs, and bare paths that end in ``.duckdb`` / ``.db`` or name a
        DuckDB file (its header says ``DUCK``)."""
        if super().accepts(url):
            return True
        if "://" in url:
            return False
        return url.endswith((".duckdb", ".db")) or is_duckdb_file(url)

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.path = path_from_url(url, self.schemes)
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def reads_release_gil(self) -> bool:
        """DuckDB scans and converts to Arrow in its own threads, GIL released."""
        return True

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            if not os.path.isfile(self.path):
                raise ConnectError(f"no DuckDB database file at {self.path!r}")
            try:
                # external access off and the configuration locked: a view in the file
                # that calls read_text()/read_blob()/read_parquet() (or ATTACH, COPY,
                # an extension) cannot read the server's files
                self._con = duck.connect(
                    self.path,
                    read_only=True,
                    threads=1,
                    enable_external_access=False,
                    lock_configuration=True,
                )
            except duckdb.Error as exc:
                raise ConnectError(f"cannot open DuckDB file {self.path!r}: {str(exc).splitlines()[0]}") from None
        return self._con

    def info(self) -> SourceInfo:
        con = self._connect()
        version = con.execute("SELECT version()").fetchone()
        return SourceInfo(
            url=f"duckdb://{os.path.abspath(self.path)}",
            kind=self.name,
            server_version=f"DuckDB {version[0] if version else '?'}",
        )

    def discover(self, *, include_views: bool = False, include_foreign: bool = False) -> list[TableInfo]:
        try:
            return self._discover(include_views=include_views)
        except duckdb.Error as exc:  # e.g. a view that reads a file: external access is off
            raise SourceError(f"cannot read the DuckDB file's tables: {str(exc).splitlines()[0]}") from None

    def _discover(self, *, include_views: bool) -> list[TableInfo]:
        con = self._connect()
        rows = con.execute(
            "SELECT schema_name, table_name, estimated_size, sql FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT internal ORDER BY 1, 2"
        ).fetchall()
        tables = [(s, t, est, sql, "table") for s, t, est, sql in rows]
        if include_views:
            views = con.execute(
                "SELECT schema_name, view_name, NULL, sql FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal ORDER BY 1, 2"
            ).fetchall()
            tables += [(s, t, est, sql, "view") for s, t, est, sql in views]
        out = []
        for schema, name, est, sql, kind in tables:
            rel = f"{quote_ident(schema)}.{quote_ident(name)}"
            arrow_schema = con.execute(f"SELECT * FROM {rel} LIMIT 0").fetch_arrow_table().schema
            cols = con.execute(
                "SELECT column_name, data_type, is_nullable, character_maximum_length, numeric_precision, "
                "numeric_scale FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, name],
            ).fetchall()
            columns = []
            for (cname, dtype, nullable, maxlen, prec, scale), field in zip(cols, arrow_schema, strict=True):
                props: dict[str, Any] = {}
                if dtype.startswith("DECIMAL"):
                    props.update(precision=prec, scale=scale)
                if maxlen:
                    props["max_length"] = maxlen
                if dtype.startswith("ENUM("):
                    props["enum"] = [r[0] for r in con.execute(f"SELECT unnest(enum_range(NULL::{dtype}))").fetchall()]
                columns.append(
                    ColumnInfo(
                        name=cname, source_type=dtype, arrow_type=field.type, nullable=bool(nullable), properties=props
                    )
                )
            pk: tuple[str, ...] = ()
            uniques: list[tuple[str, ...]] = []
            for ctype, ccols in con.execute(
                "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
                "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
                [schema, name],
            ).fetchall():
                if ctype == "PRIMARY KEY":
                    pk = tuple(ccols)
                else:
                    uniques.append(tuple(ccols))
            out.append(
                TableInfo(
                    schema=schema,
                    name=name,
                    columns=tuple(columns),
                    kind=kind,
                    primary_key=pk,
                    unique_keys=tuple(uniques),
                    row_estimate=est,
                    ddl=sql,
                )
            )
        return out

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, Any]]:
        st = os.stat(self.path)
        yield {"file_size": st.st_size, "file_mtime": st.st_mtime}

    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        rows = table.row_estimate or 0
        if table.kind != "table" or rows <= SPLIT_ROWS or target <= 1:
            return [Partition(table=table, index=0, count=1, estimated_rows=table.row_estimate)]
        con = self._connect()
        rel = f"{quote_ident(table.schema)}.{quote_ident(table.name)}"
        lo, hi = con.execute(f"SELECT min(rowid), max(rowid) FROM {rel}").fetchone() or (0, 0)
        n = min(target * 2, max(1, rows // SPLIT_ROWS))
        step = (hi - lo + n) // n
        return [
            Partition(
                table=table,
                index=i,
                count=n,
                spec={"rowid": [lo + i * step, lo + (i + 1) * step]},
                estimated_rows=rows // n,
            )
            for i in range(n)
        ]

    def read(
        self, partition: Partition, *, snapshot: Mapping[str, Any], batch_rows: int, cancel: CancelToken
    ) -> Iterator[pa.RecordBatch]:
        table = partition.table
        con = self._connect().cursor()
        cols = ", ".join(quote_ident(c.name) for c in table.columns)
        sql = f"SELECT {cols} FROM {quote_ident(table.schema)}.{quote_ident(table.name)}"
        params: list[Any] = []
        if "rowid" in partition.spec:
            sql += " WHERE rowid >= ? AND rowid < ?"
            params = list(partition.spec["rowid"])
        schema = table.arrow_schema()
        try:
            reader = con.execute(sql, params).fetch_record_batch(batch_rows)
            for batch in reader:
                if cancel.is_set():
                    con.interrupt()
                    return
                yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        except duckdb.Error as exc:
            raise SourceError(f"reading {table.qualified_name}: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
