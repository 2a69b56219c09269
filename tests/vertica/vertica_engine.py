"""The SQL side of the Vertica test server: DuckDB holding test tables and a v_catalog.

Tables live in DuckDB with a hidden ``__epoch`` column (the epoch their rows were committed
in), so ``AT EPOCH n SELECT ...`` is real: the server rewrites each reference to a user
table into a sub-select of the rows committed at or before ``n``. ``v_catalog`` and
``v_monitor`` are DuckDB tables filled to mirror Vertica's for the test tables.

Minimal Vertica-isms are translated: the ``AT EPOCH`` prefix, ``HASH(...)`` (a DuckDB
macro returning a value in [0, 2^63) as Vertica's does), ``ST_AsText``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from vertica_types import VType, from_duckdb, parse_type


@dataclass
class ColumnDef:
    name: str
    type: str
    nullable: bool = True


@dataclass
class TableDef:
    """A test table: what the fixture creates in the fake server or with real DDL."""

    schema: str
    name: str
    columns: list[ColumnDef]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    segmented_by: tuple[str, ...] | None = None  # None: UNSEGMENTED ALL NODES

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def ddl(self) -> str:
        """Real Vertica DDL for this table (identifiers quoted)."""
        cols = [f"{_q(c.name)} {parse_type(c.type).sql()}{'' if c.nullable else ' NOT NULL'}" for c in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(_q(c) for c in self.primary_key) + ")")
        seg = (
            "SEGMENTED BY HASH(" + ", ".join(_q(c) for c in self.segmented_by) + ") ALL NODES"
            if self.segmented_by
            else "UNSEGMENTED ALL NODES"
        )
        return f"CREATE TABLE {_q(self.schema)}.{_q(self.name)} ({', '.join(cols)}) {seg}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqlError(Exception):
    """An error the server reports as an ErrorResponse."""

    def __init__(self, sqlstate: str, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.code = code


@dataclass
class ResultColumn:
    name: str
    vtype: VType
    table_id: int = 0
    schema: str | None = None
    table: str | None = None
    nullable: bool = True


_CATALOG_DDL = """
CREATE SCHEMA v_catalog; CREATE SCHEMA v_monitor;
CREATE TABLE v_catalog.schemata(schema_id BIGINT, schema_name VARCHAR, schema_owner VARCHAR,
  is_system_schema BOOLEAN);
CREATE TABLE v_catalog.tables(table_schema_id BIGINT, table_schema VARCHAR, table_id BIGINT,
  table_name VARCHAR, owner_name VARCHAR, is_temp_table BOOLEAN, is_system_table BOOLEAN,
  is_flextable BOOLEAN, partition_expression VARCHAR, create_time TIMESTAMP WITH TIME ZONE);
CREATE TABLE v_catalog.views(table_schema VARCHAR, table_name VARCHAR, table_id BIGINT,
  view_definition VARCHAR);
CREATE TABLE v_catalog.columns(table_id BIGINT, table_schema VARCHAR, table_name VARCHAR,
  is_system_table BOOLEAN, column_id VARCHAR, column_name VARCHAR, data_type VARCHAR,
  data_type_id BIGINT, data_type_length BIGINT, character_maximum_length BIGINT,
  numeric_precision BIGINT, numeric_scale BIGINT, datetime_precision BIGINT,
  interval_precision BIGINT, ordinal_position BIGINT, is_nullable BOOLEAN,
  column_default VARCHAR, is_identity BOOLEAN);
CREATE TABLE v_catalog.view_columns(table_id BIGINT, table_schema VARCHAR, table_name VARCHAR,
  column_id VARCHAR, column_name VARCHAR, data_type VARCHAR, data_type_id BIGINT,
  ordinal_position BIGINT);
CREATE TABLE v_catalog.primary_keys(constraint_id BIGINT, constraint_name VARCHAR,
  column_name VARCHAR, ordinal_position BIGINT, table_schema VARCHAR, table_name VARCHAR,
  constraint_type VARCHAR);
CREATE TABLE v_catalog.projections(projection_schema_id BIGINT, projection_schema VARCHAR,
  projection_id BIGINT, projection_name VARCHAR, owner_name VARCHAR, anchor_table_id BIGINT,
  anchor_table_name VARCHAR, is_super_projection BOOLEAN, is_segmented BOOLEAN,
  segment_expression VARCHAR, is_up_to_date BOOLEAN);
CREATE TABLE v_catalog.nodes(node_id BIGINT, node_name VARCHAR, node_state VARCHAR,
  node_address VARCHAR, export_address VARCHAR);
CREATE TABLE v_monitor.projection_storage(node_name VARCHAR, projection_id BIGINT,
  projection_name VARCHAR, projection_schema VARCHAR, anchor_table_id BIGINT,
  anchor_table_name VARCHAR, anchor_table_schema VARCHAR, row_count BIGINT, used_bytes BIGINT);
CREATE TABLE v_monitor.system(current_epoch BIGINT, ahm_epoch BIGINT, last_good_epoch BIGINT,
  designed_fault_tolerance BIGINT, node_count BIGINT);
INSERT INTO v_monitor.system VALUES (1, 0, 0, 0, 1);
CREATE MACRO vhash(a) AS (hash(a) >> 1)::BIGINT,
  (a, b) AS (hash(a, b) >> 1)::BIGINT,
  (a, b, c) AS (hash(a, b, c) >> 1)::BIGINT,
  (a, b, c, d) AS (hash(a, b, c, d) >> 1)::BIGINT;
CREATE MACRO st_astext(g) AS g;
CREATE MACRO get_current_epoch() AS (SELECT current_epoch FROM v_monitor.system);
"""

_AT_EPOCH = re.compile(r"^\s*AT\s+EPOCH\s+(LATEST|\d+)\s+", re.IGNORECASE)
_HASH = re.compile(r"\bHASH\s*\(", re.IGNORECASE)
_SET_STMT = re.compile(r"^\s*(SET|COMMIT|ROLLBACK|BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)


class Engine:
    """DuckDB with the test tables, a v_catalog mirror and epochs."""

    def __init__(self, node_names: Sequence[str] = ("v_test_node0001",)) -> None:
        self.db = duckdb.connect(":memory:")
        self.db.execute(_CATALOG_DDL)
        self.lock = threading.Lock()
        self.tables: dict[tuple[str, str], TableDef] = {}
        self.table_ids: dict[tuple[str, str], int] = {}
        self.vtypes: dict[tuple[str, str], dict[str, VType]] = {}
        self.schemas: dict[str, int] = {}
        self.denied: set[tuple[str, str]] = set()
        self.node_names = list(node_names)
        self._next_id = 45035996273704960  # Vertica object ids are large
        self.epoch = 1
        for i, n in enumerate(self.node_names):
            self.db.execute("INSERT INTO v_catalog.nodes VALUES (?, ?, 'UP', '127.0.0.1', '127.0.0.1')", [i, n])
        self.db.execute("UPDATE v_monitor.system SET node_count = ?", [len(self.node_names)])

    # ------------------------------------------------------------------ test table API
    def _id(self) -> int:
        self._next_id += 2
        return self._next_id

    def create_table(self, t: TableDef) -> None:
        with self.lock:
            self._create(t)
        if t.rows:
            self.insert(t.schema, t.name, t.rows)

    def _create(self, t: TableDef) -> None:
        db = self.db
        if t.schema not in self.schemas:
            sid = self._id()
            self.schemas[t.schema] = sid
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(t.schema)}")
            db.execute("INSERT INTO v_catalog.schemata VALUES (?, ?, 'dbadmin', false)", [sid, t.schema])
        vts = {c.name: parse_type(c.type) for c in t.columns}
        cols = ", ".join(f"{_q(c.name)} {vts[c.name].storage()}" for c in t.columns)
        db.execute(f"CREATE TABLE {_q(t.schema)}.{_q(t.name)} ({cols}, __epoch BIGINT)")
        tid = self._id()
        self.tables[(t.schema, t.name)] = t
        self.table_ids[(t.schema, t.name)] = tid
        self.vtypes[(t.schema, t.name)] = vts
        db.execute(
            "INSERT INTO v_catalog.tables VALUES (?, ?, ?, ?, 'dbadmin', false, false, false, '', now())",
            [self.schemas[t.schema], t.schema, tid, t.name],
        )
        for i, c in enumerate(t.columns, 1):
            vt = vts[c.name]
            db.execute(
                "INSERT INTO v_catalog.columns VALUES (?,?,?,false,?,?,?,?,?,?,?,?,?,?,?,?,NULL,false)",
                [
                    tid,
                    t.schema,
                    t.name,
                    f"{tid}-{i}",
                    c.name,
                    vt.sql(),
                    vt.oid(),
                    vt.size(),
                    vt.length if vt.kind in ("char", "varchar", "long varchar") else None,
                    vt.precision if vt.kind == "numeric" else None,
                    vt.scale if vt.kind == "numeric" else None,
                    (6 if vt.precision is None else vt.precision)
                    if vt.kind in ("time", "timetz", "timestamp", "timestamptz")
                    else None,
                    6 if vt.kind == "interval ds" else None,
                    i,
                    c.nullable,
                ],
            )
        cid = self._id()
        for i, c in enumerate(t.primary_key, 1):
            db.execute(
                "INSERT INTO v_catalog.primary_keys VALUES (?, ?, ?, ?, ?, ?, 'p')",
                [cid, f"C_PRIMARY_{t.name}", c, i, t.schema, t.name],
            )
        seg = t.segmented_by
        expr = ("hash(" + ", ".join(f"{t.name}.{c}" for c in seg) + ")") if seg else ""
        pname = f"{t.name}_super"
        db.execute(
            "INSERT INTO v_catalog.projections VALUES (?, ?, ?, ?, 'dbadmin', ?, ?, true, ?, ?, true)",
            [self.schemas[t.schema], t.schema, self._id(), pname, tid, t.name, bool(seg), expr],
        )

    def create_view(self, schema: str, name: str, select_sql: str, columns: list[ColumnDef]) -> None:
        """A view over test tables (Vertica lists its columns in ``v_catalog.view_columns``)."""
        with self.lock:
            self.db.execute(f"CREATE VIEW {_q(schema)}.{_q(name)} AS {select_sql}")
            vid = self._id()
            self.db.execute("INSERT INTO v_catalog.views VALUES (?, ?, ?, ?)", [schema, name, vid, select_sql])
            for i, c in enumerate(columns, 1):
                vt = parse_type(c.type)
                self.db.execute(
                    "INSERT INTO v_catalog.view_columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [vid, schema, name, f"{vid}-{i}", c.name, vt.sql(), vt.oid(), i],
                )

    def insert(self, schema: str, name: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert rows and commit them in the current epoch; return that epoch."""
        with self.lock:
            vts = self.vtypes[(schema, name)]
            t = self.tables[(schema, name)]
            epoch = self.epoch
            conv = [(vts[c.name]) for c in t.columns]
            data = [tuple(_store(v, vt) for v, vt in zip(r, conv, strict=True)) for r in rows]
            if data:
                self._bulk_insert(schema, name, t, conv, data, epoch)
            self.epoch += 1
            self.db.execute(
                "UPDATE v_monitor.system SET current_epoch = ?, last_good_epoch = ?", [self.epoch, self.epoch - 1]
            )
            self._refresh_storage(schema, name)
            return epoch

    def _bulk_insert(
        self, schema: str, name: str, t: TableDef, conv: list[VType], data: list[tuple[Any, ...]], epoch: int
    ) -> None:
        """Through Arrow (executemany is far too slow for 20,000 rows); casts do the rest."""
        import pyarrow as pa

        arrays = {}
        for i in range(len(conv)):
            values = [_arrowable(r[i]) for r in data]
            arrays[f"c{i}"] = pa.array(values)
        self.db.register("__bulk", pa.table(arrays))
        try:
            select = ", ".join(f"CAST(c{i} AS {vt.storage()})" for i, vt in enumerate(conv))
            self.db.execute(f"INSERT INTO {_q(schema)}.{_q(name)} SELECT {select}, {int(epoch)} FROM __bulk")
        finally:
            self.db.unregister("__bulk")

    def insert_arrow(self, schema: str, name: str, table: Any) -> int:
        """Bulk insert from an Arrow table whose columns are already in storage form."""
        with self.lock:
            epoch = self.epoch
            cols = ", ".join(_q(c) for c in table.column_names)
            self.db.register("__bulk", table)
            self.db.execute(f"INSERT INTO {_q(schema)}.{_q(name)} SELECT {cols}, {epoch} FROM __bulk")
            self.db.unregister("__bulk")
            self.epoch += 1
            self.db.execute(
                "UPDATE v_monitor.system SET current_epoch = ?, last_good_epoch = ?", [self.epoch, self.epoch - 1]
            )
            self._refresh_storage(schema, name)
            return epoch

    def _refresh_storage(self, schema: str, name: str) -> None:
        db = self.db
        n = db.execute(f"SELECT count(*) FROM {_q(schema)}.{_q(name)}").fetchone()[0]  # type: ignore[index]
        tid = self.table_ids[(schema, name)]
        db.execute("DELETE FROM v_monitor.projection_storage WHERE anchor_table_id = ?", [tid])
        nodes = self.node_names
        seg = bool(self.tables[(schema, name)].segmented_by)
        for i, node in enumerate(nodes):
            rows = (n // len(nodes) + (1 if i < n % len(nodes) else 0)) if seg else n
            db.execute(
                "INSERT INTO v_monitor.projection_storage VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                [node, f"{name}_super", schema, tid, name, schema, rows, rows * 40],
            )

    # ------------------------------------------------------------------ query execution
    def execute(self, sql: str, *, user: str) -> tuple[list[ResultColumn], Any] | str:
        """Run one statement: ``(columns, arrow RecordBatchReader)`` or a command tag."""
        text = sql.strip().rstrip(";").strip()
        if _SET_STMT.match(text):
            return text.split()[0].upper()
        epoch: int | None = None
        m = _AT_EPOCH.match(text)
        if m:
            epoch = self.epoch - 1 if m.group(1).upper() == "LATEST" else int(m.group(1))
            if epoch >= self.epoch:
                raise SqlError("22V03", f"Epoch number out of range: {epoch}", 4300)
            text = text[m.end() :]
        refs = self._user_tables(text)
        for key in refs:
            if key in self.denied:
                raise SqlError("42501", f"Permission denied for relation {key[1]}", 4367)
        text = self._rewrite_tables(text, refs, epoch)
        text = _HASH.sub("vhash(", text)
        cur = self.db.cursor()
        try:
            cur.execute(text)
        except duckdb.CatalogException as e:
            cur.close()
            raise SqlError("42V01", _first_line(e), 4566) from None
        except duckdb.ParserException as e:
            cur.close()
            raise SqlError("42601", _first_line(e), 4856) from None
        except duckdb.BinderException as e:
            cur.close()
            raise SqlError("42703", _first_line(e), 2624) from None
        except duckdb.Error as e:
            cur.close()
            raise SqlError("42000", _first_line(e), 0) from None
        if cur.description is None:
            cur.close()
            return "OK"
        cols = []
        for name, dtype, *_ in cur.description:
            cols.append(self._result_column(name, str(dtype), refs))
        return cols, cur

    def _user_tables(self, text: str) -> list[tuple[str, str]]:
        found = []
        for schema, name in self.tables:
            pat = _ref_pattern(schema, name)
            if re.search(pat, text, re.IGNORECASE):
                found.append((schema, name))
        return found

    def _rewrite_tables(self, text: str, refs: list[tuple[str, str]], epoch: int | None) -> str:
        for schema, name in refs:
            pat = _ref_pattern(schema, name)
            cond = f" WHERE __epoch <= {int(epoch)}" if epoch is not None else ""
            sub = f"(SELECT * EXCLUDE (__epoch) FROM {_q(schema)}.{_q(name)}{cond}) AS {_q(name)}"
            text = re.sub(pat, lambda _m, s=sub: s, text, flags=re.IGNORECASE)
        return text

    def _result_column(self, name: str, dtype: str, refs: list[tuple[str, str]]) -> ResultColumn:
        for key in refs:
            vt = self.vtypes[key].get(name)
            if vt is not None and vt.storage().replace(" ", "") == dtype.replace(" ", "").replace('"', ""):
                col = next(c for c in self.tables[key].columns if c.name == name)
                return ResultColumn(name, vt, self.table_ids[key], key[0], key[1], col.nullable)
        return ResultColumn(name, from_duckdb(dtype))


def _ref_pattern(schema: str, name: str) -> str:
    """A regular expression matching ``schema.name`` quoted or not."""
    s, n = re.escape(schema), re.escape(name)
    return rf'(?:"{s}"|\b{s}\b)\s*\.\s*(?:"{n}"|\b{n}\b)'


def _arrowable(v: Any) -> Any:
    """Values pyarrow cannot infer (UUID) as text DuckDB casts back."""
    import uuid as _uuid

    if isinstance(v, _uuid.UUID):
        return str(v)
    return v


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _store(v: Any, vt: VType) -> Any:
    """A Python value of a test row in the DuckDB storage form of its Vertica type."""
    if v is None:
        return None
    k = vt.kind
    if k == "numeric" and (vt.precision or 0) > 38:  # exact text with the declared scale
        d = decimal.Decimal(str(v)).quantize(
            decimal.Decimal(1).scaleb(-(vt.scale or 0)), context=decimal.Context(prec=2000)
        )
        return f"{d:f}"
    if k == "numeric":
        return decimal.Decimal(str(v))
    if k == "timetz":
        off = v.utcoffset() or dt.timedelta(0)
        return {"t": v.replace(tzinfo=None), "o": int(off.total_seconds())}
    if k == "interval ds":
        return (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds if isinstance(v, dt.timedelta) else int(v)
    if k == "interval ym":
        return int(v)
    if k == "char":
        return str(v).ljust(vt.length or 1)
    if k == "binary":
        return bytes(v).ljust(vt.length or 1, b"\x00")
    if k in ("array", "set"):
        el = vt.element
        assert el is not None
        return [_store(x, el) for x in v]
    if k == "row":
        return {n: _store(v.get(n), t) for n, t in vt.fields}
    return v
