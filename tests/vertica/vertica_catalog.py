"""The test server's ``v_catalog`` / ``v_monitor`` mirror, kept in DuckDB tables.

Every user table the server holds is described here the way Vertica's system tables
describe it (``v_catalog.tables``, ``columns``, ``primary_keys``, ``projections``,
``v_monitor.projection_storage``), so ADU's discovery queries run unchanged. Creating,
dropping and renaming a table (SQL or the test API) keeps these rows in step.

Each user table is stored in DuckDB with four hidden columns after the user's:
``__epoch`` (the epoch its insert committed in; NULL while pending), ``__deleted`` (the
epoch its delete committed in), ``__txn`` / ``__deltxn`` (the session whose uncommitted
insert / delete it is): see :mod:`vertica_history`.
"""

from __future__ import annotations

from typing import Any

from vertica_types import VType, parse_type

HIDDEN = ("__epoch", "__deleted", "__txn", "__deltxn")
HIDDEN_DDL = ", __epoch BIGINT, __deleted BIGINT, __txn BIGINT, __deltxn BIGINT"

CATALOG_DDL = """
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
CREATE TABLE __adu_privs(usr VARCHAR, qname VARCHAR, priv VARCHAR);
CREATE TABLE __adu_superusers(usr VARCHAR);
CREATE MACRO vhash(a) AS (hash(a) >> 1)::BIGINT,
  (a, b) AS (hash(a, b) >> 1)::BIGINT,
  (a, b, c) AS (hash(a, b, c) >> 1)::BIGINT,
  (a, b, c, d) AS (hash(a, b, c, d) >> 1)::BIGINT;
CREATE MACRO st_astext(g) AS g;
CREATE MACRO get_current_epoch() AS (SELECT current_epoch FROM v_monitor.system);
CREATE MACRO quote_ident(s) AS '"' || replace(s, '"', '""') || '"';
CREATE MACRO __has_priv(u, t, p) AS
  (EXISTS (SELECT 1 FROM __adu_superusers s WHERE s.usr = u)
   OR EXISTS (SELECT 1 FROM __adu_privs g WHERE g.usr = u AND g.qname = t AND g.priv = upper(p)));
"""

#: catalog tables holding one row per user table, and their (table id, name) columns
_BY_TABLE = {
    "v_catalog.tables": ("table_id", "table_name"),
    "v_catalog.columns": ("table_id", "table_name"),
    "v_catalog.projections": ("anchor_table_id", "anchor_table_name"),
    "v_monitor.projection_storage": ("anchor_table_id", "anchor_table_name"),
}


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``"schema"."name"``: how the test server's QUOTE_IDENT builds a qualified name."""
    return f"{q(schema)}.{q(name)}"


def register_table(
    db: Any, *, schema_id: int, table_id: int, ids: list[int], t: Any, vts: dict[str, VType], owner: str
) -> None:
    """Catalog rows of a new table ``t`` (a ``TableDef``); ``ids`` are two fresh object ids."""
    db.execute(
        "INSERT INTO v_catalog.tables VALUES (?, ?, ?, ?, ?, false, false, false, '', now())",
        [schema_id, t.schema, table_id, t.name, owner],
    )
    for i, c in enumerate(t.columns, 1):
        vt = vts[c.name]
        db.execute(
            "INSERT INTO v_catalog.columns VALUES (?,?,?,false,?,?,?,?,?,?,?,?,?,?,?,?,NULL,false)",
            [
                table_id,
                t.schema,
                t.name,
                f"{table_id}-{i}",
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
    for i, c in enumerate(t.primary_key, 1):
        db.execute(
            "INSERT INTO v_catalog.primary_keys VALUES (?, ?, ?, ?, ?, ?, 'p')",
            [ids[0], f"C_PRIMARY_{t.name}", c, i, t.schema, t.name],
        )
    seg = t.segmented_by
    expr = ("hash(" + ", ".join(f"{t.name}.{c}" for c in seg) + ")") if seg else ""
    db.execute(
        "INSERT INTO v_catalog.projections VALUES (?, ?, ?, ?, ?, ?, ?, true, ?, ?, true)",
        [schema_id, t.schema, ids[1], f"{t.name}_super", owner, table_id, t.name, bool(seg), expr],
    )


def unregister_table(db: Any, table_id: int, schema: str, name: str) -> None:
    for table, (id_col, _) in _BY_TABLE.items():
        db.execute(f"DELETE FROM {table} WHERE {id_col} = ?", [table_id])
    db.execute("DELETE FROM v_catalog.primary_keys WHERE table_schema = ? AND table_name = ?", [schema, name])


def rename_table(db: Any, table_id: int, schema: str, old: str, new: str) -> None:
    for table, (id_col, name_col) in _BY_TABLE.items():
        db.execute(f"UPDATE {table} SET {name_col} = ? WHERE {id_col} = ?", [new, table_id])
    db.execute(
        "UPDATE v_catalog.projections SET projection_name = ? WHERE anchor_table_id = ?", [f"{new}_super", table_id]
    )
    db.execute(
        "UPDATE v_catalog.primary_keys SET table_name = ?, constraint_name = ?"
        " WHERE table_schema = ? AND table_name = ?",
        [new, f"C_PRIMARY_{new}", schema, old],
    )


def refresh_storage(db: Any, *, table_id: int, schema: str, name: str, nodes: list[str], segmented: bool) -> None:
    """``v_monitor.projection_storage`` rows: the committed, undeleted rows, spread over nodes."""
    n = db.execute(
        f"SELECT count(*) FROM {q(schema)}.{q(name)} WHERE __epoch IS NOT NULL AND __deleted IS NULL"
    ).fetchone()[0]
    db.execute("DELETE FROM v_monitor.projection_storage WHERE anchor_table_id = ?", [table_id])
    for i, node in enumerate(nodes):
        rows = (n // len(nodes) + (1 if i < n % len(nodes) else 0)) if segmented else n
        db.execute(
            "INSERT INTO v_monitor.projection_storage VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
            [node, f"{name}_super", schema, table_id, name, schema, rows, rows * 40],
        )


def set_epochs(db: Any, *, current: int, ahm: int) -> None:
    db.execute(
        "UPDATE v_monitor.system SET current_epoch = ?, last_good_epoch = ?, ahm_epoch = ?", [current, current - 1, ahm]
    )


def column_types(columns: list[Any]) -> dict[str, VType]:
    return {c.name: parse_type(c.type) for c in columns}
