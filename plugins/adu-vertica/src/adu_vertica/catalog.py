"""Discovery from ``v_catalog`` / ``v_monitor``: tables, columns, keys, segmentation, sizes."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import Any

from adu_core.models import ColumnInfo, TableInfo
from vertica_python import errors as verrors

from adu_vertica.types import arrow_type, parse_type, properties, quote_ident

log = logging.getLogger(__name__)

TABLES_SQL = """
SELECT table_schema, table_name, table_id
FROM v_catalog.tables
WHERE NOT is_system_table AND NOT is_temp_table
ORDER BY table_schema, table_name
"""
VIEWS_SQL = "SELECT table_schema, table_name, table_id FROM v_catalog.views ORDER BY table_schema, table_name"
COLUMNS_SQL = """
SELECT table_schema, table_name, column_name, data_type, is_nullable, ordinal_position,
       column_default, is_identity
FROM v_catalog.columns
ORDER BY table_schema, table_name, ordinal_position
"""
VIEW_COLUMNS_SQL = """
SELECT table_schema, table_name, column_name, data_type, ordinal_position
FROM v_catalog.view_columns
ORDER BY table_schema, table_name, ordinal_position
"""
PK_SQL = """
SELECT table_schema, table_name, column_name, ordinal_position
FROM v_catalog.primary_keys
ORDER BY table_schema, table_name, ordinal_position
"""
PROJECTIONS_SQL = """
SELECT projection_schema, anchor_table_name, projection_name, is_segmented, segment_expression
FROM v_catalog.projections
WHERE is_super_projection
ORDER BY projection_schema, anchor_table_name, projection_name
"""
STORAGE_SQL = """
SELECT anchor_table_schema, anchor_table_name, projection_name, SUM(row_count), SUM(used_bytes)
FROM v_monitor.projection_storage
GROUP BY anchor_table_schema, anchor_table_name, projection_name
"""
NODES_SQL = "SELECT node_name FROM v_catalog.nodes ORDER BY node_name"
#: what the session's user may SELECT (a failure only loses the ``readable`` hint)
PRIVILEGES_SQL = """
SELECT table_schema, table_name,
       HAS_TABLE_PRIVILEGE(QUOTE_IDENT(table_schema) || '.' || QUOTE_IDENT(table_name), 'SELECT')
FROM v_catalog.tables
WHERE NOT is_system_table AND NOT is_temp_table
"""

_HASH_EXPR = re.compile(r"^\s*hash\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_COLREF = re.compile(r'^(?:(?:"[^"]+"|[A-Za-z_][\w$]*)\.)*("(?:[^"]|"")+"|[A-Za-z_][\w$]*)$')


def query(conn: Any, sql: str) -> list[list[Any]]:
    cur = conn.cursor()
    cur.execute(sql)
    rows: list[list[Any]] = cur.fetchall()
    return rows


def _optional(conn: Any, sql: str) -> list[list[Any]]:
    """A catalog query whose failure (privileges, old server) only costs estimates."""
    try:
        return query(conn, sql)
    except verrors.QueryError as e:
        log.info("catalog query skipped: %s", str(e).splitlines()[0])
        return []


def segmentation_columns(expression: str | None, columns: list[str]) -> list[str] | None:
    """Columns of a ``hash(t.a, t.b)`` segmentation expression, or None for anything else."""
    if not expression:
        return None
    m = _HASH_EXPR.match(expression)
    if not m:
        return None
    out = []
    by_lower = {c.lower(): c for c in columns}
    for part in _split_args(m.group(1)):
        ref = _COLREF.match(part.strip())
        if not ref:
            return None
        name = ref.group(1)
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name
        real = name if name in columns else by_lower.get(name.lower())
        if real is None:
            return None
        out.append(real)
    return out or None


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch == "(":
            depth += 1
        if not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def discover(conn: Any, *, include_views: bool = False, profile: str = "exact") -> list[TableInfo]:
    """Every user table (and view when asked), fully described; the columns' Arrow types
    are those of the far-side ``profile`` (see :mod:`adu_vertica.types`)."""
    tables = [(s, n, "table") for s, n, _ in query(conn, TABLES_SQL)]
    if include_views:
        tables += [(s, n, "view") for s, n, _ in _optional(conn, VIEWS_SQL)]
    cols: dict[tuple[str, str], list[ColumnInfo]] = defaultdict(list)
    for schema, table, name, data_type, nullable, _pos, default, identity in query(conn, COLUMNS_SQL):
        vt = parse_type(data_type)
        cols[(schema, table)].append(
            ColumnInfo(
                name=name,
                source_type=data_type,
                arrow_type=arrow_type(vt, profile),
                nullable=bool(nullable),
                properties=properties(vt, {"column_default": default, "is_identity": identity}, profile),
            )
        )
    if include_views:
        for schema, table, name, data_type, _pos in _optional(conn, VIEW_COLUMNS_SQL):
            vt = parse_type(data_type)
            cols[(schema, table)].append(
                ColumnInfo(
                    name=name,
                    source_type=data_type,
                    arrow_type=arrow_type(vt, profile),
                    nullable=True,
                    properties=properties(vt, {}, profile),
                )
            )
    pks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for schema, table, name, _pos in _optional(conn, PK_SQL):
        pks[(schema, table)].append(name)
    segs: dict[tuple[str, str], dict[str, Any]] = {}
    for schema, table, proj, segmented, expr in _optional(conn, PROJECTIONS_SQL):
        key = (schema, table)
        if key not in segs or (segmented and not segs[key]["segmented"]):
            segs[key] = {"projection": proj, "segmented": bool(segmented), "expression": expr or None}
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    for schema, table, _proj, rows, used in _optional(conn, STORAGE_SQL):
        key = (schema, table)
        best = sizes.get(key, (0, 0))
        if int(rows or 0) >= best[0]:
            sizes[key] = (int(rows or 0), int(used or 0))
    nodes = [r[0] for r in _optional(conn, NODES_SQL)]
    readable = {(schema, table): bool(ok) for schema, table, ok in _optional(conn, PRIVILEGES_SQL)}
    out = []
    for schema, table, kind in tables:
        key = (schema, table)
        columns = tuple(cols.get(key, ()))
        if not columns:
            continue
        names = [c.name for c in columns]
        seg = segs.get(key, {})
        seg_cols = segmentation_columns(seg.get("expression"), names) if seg.get("segmented") else None
        props: dict[str, Any] = {
            "projection": seg.get("projection"),
            "segmented": bool(seg.get("segmented")),
            "segment_expression": seg.get("expression"),
            "segmentation_columns": seg_cols,
            "node_count": len(nodes) or None,
            "readable": readable.get(key),
        }
        size = sizes.get(key)
        info = TableInfo(
            schema=schema,
            name=table,
            columns=columns,
            kind=kind,
            primary_key=tuple(pks.get(key, ())),
            row_estimate=size[0] if size else None,
            size_bytes=size[1] if size else None,
            properties=props,
        )
        out.append(_with_ddl(info))
    denied = [t.qualified_name for t in out if t.properties.get("readable") is False]
    if denied:
        shown = ", ".join(denied[:5]) + (f" and {len(denied) - 5} more" if len(denied) > 5 else "")
        log.warning(
            "the user has no SELECT privilege on %d table(s): %s (exporting them fails with permission denied)",
            len(denied),
            shown,
        )
    return out


def _with_ddl(t: TableInfo) -> TableInfo:
    import attrs

    lines = [f"    {quote_ident(c.name)} {c.source_type}{'' if c.nullable else ' NOT NULL'}" for c in t.columns]
    if t.primary_key:
        lines.append("    PRIMARY KEY (" + ", ".join(quote_ident(c) for c in t.primary_key) + ")")
    seg_cols = t.properties.get("segmentation_columns")
    if seg_cols:
        seg = " SEGMENTED BY HASH(" + ", ".join(quote_ident(c) for c in seg_cols) + ") ALL NODES"
    elif t.properties.get("segmented") is False:
        seg = " UNSEGMENTED ALL NODES"
    else:
        seg = ""
    ddl = f"CREATE TABLE {quote_ident(t.schema)}.{quote_ident(t.name)} (\n" + ",\n".join(lines) + f"\n){seg};"
    return attrs.evolve(t, ddl=ddl)
