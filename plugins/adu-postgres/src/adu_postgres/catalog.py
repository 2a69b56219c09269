"""Discovery: tables, columns, keys, estimates and DDL from the PostgreSQL catalogs.

Only catalog queries with bound parameters; names are quoted with
:func:`adu_postgres.connection.quote_ident` wherever they become SQL text (the DDL).
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
from adu_core.models import ColumnInfo, TableInfo

from adu_postgres import pgtypes
from adu_postgres import types as t
from adu_postgres.connection import qualified, quote_ident

KINDS = {"r": "table", "p": "partitioned", "v": "view", "m": "matview", "f": "foreign"}

#: the relations, names only: a size or a privilege costs the server a look at each
#: relation (a cold backend opens every one: ~16 ms for 200 tables), so those are read by
#: :data:`_FACTS_SQL` for the relations selected only
_TABLES_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = ANY(%(kinds)s)
  AND NOT c.relispartition
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%%'
ORDER BY n.nspname, c.relname
"""

_FACTS_SQL = """
SELECT c.oid,
       CASE WHEN c.relkind = 'p' THEN NULL ELSE c.reltuples END,
       CASE WHEN c.relkind IN ('r', 'm', 't') THEN pg_total_relation_size(c.oid) END,
       CASE WHEN c.relkind IN ('r', 'm') THEN pg_relation_size(c.oid) END,
       has_table_privilege(c.oid, 'SELECT'),
       obj_description(c.oid, 'pg_class')
FROM pg_class c
WHERE c.oid = ANY(%(oids)s::oid[])
"""

_LEAVES_SQL = """
SELECT r.oid AS root, c.oid, n.nspname, c.relname, c.reltuples,
       pg_total_relation_size(c.oid), pg_relation_size(c.oid), c.relkind
FROM unnest(%(oids)s::oid[]) AS r(oid)
CROSS JOIN LATERAL pg_partition_tree(r.oid) AS p
JOIN pg_class c ON c.oid = p.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE p.isleaf AND c.relkind IN ('r', 'f')
ORDER BY n.nspname, c.relname
"""

_COLUMNS_SQL = """
SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
       format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a
WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_TYPES_SQL = """
WITH RECURSIVE chain AS (
    SELECT ty.oid AS start, ty.oid, 0 AS depth
    FROM pg_type ty WHERE ty.oid = ANY(%(oids)s::oid[])
  UNION ALL
    SELECT chain.start, b.typbasetype, chain.depth + 1
    FROM chain JOIN pg_type b ON b.oid = chain.oid
    WHERE b.typtype = 'd'
)
SELECT chain.start, chain.depth, ty.oid, ty.typname, n.nspname, ty.typtype, ty.typcategory,
       ty.typtypmod, format_type(ty.oid, NULL)
FROM chain
JOIN pg_type ty ON ty.oid = chain.oid
JOIN pg_namespace n ON n.oid = ty.typnamespace
ORDER BY chain.start, chain.depth
"""

_ENUMS_SQL = """
SELECT enumtypid, array_agg(enumlabel::text ORDER BY enumsortorder)
FROM pg_enum WHERE enumtypid = ANY(%(oids)s::oid[]) GROUP BY enumtypid
"""

_KEYS_SQL = """
SELECT con.conrelid, con.contype,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_constraint con
WHERE con.contype IN ('p', 'u') AND con.conrelid = ANY(%(oids)s::oid[])
ORDER BY con.conrelid, con.contype, con.conname
"""


def _rows(conn: Any, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def money_scale(conn: Any) -> int:
    """Fractional digits of ``money`` under the server's ``lc_monetary``."""
    return int(_rows(conn, "SELECT scale('1'::money::numeric)")[0][0])


def discover(
    conn: Any,
    options: Mapping[str, Any],
    *,
    include_views: bool = False,
    include_foreign: bool = False,
    only: Sequence[tuple[str, str]] | None = None,
    match: Callable[[str, str], bool] | None = None,
    side: Any = None,
) -> list[TableInfo]:
    """Every exportable relation (``only``: just these ``(schema, name)`` pairs; ``match``:
    those for which ``match(schema, name)`` is true), columns and keys read for those only.

    :param side: another idle connection (autocommit): the far side's type facts
        (:func:`adu_postgres.pgtypes.describe`, four queries) are read on it meanwhile.
    """
    with cf.ThreadPoolExecutor(1, thread_name_prefix="adu-pg-describe") as pool:
        return _discover(conn, options, include_views, include_foreign, only, match, side, pool)


def _discover(
    conn: Any,
    options: Mapping[str, Any],
    include_views: bool,
    include_foreign: bool,
    only: Sequence[tuple[str, str]] | None,
    match: Callable[[str, str], bool] | None,
    side: Any,
    pool: cf.Executor,
) -> list[TableInfo]:
    kinds = ["r", "p"]
    if include_views:
        kinds += ["v", "m"]
    if include_foreign:
        kinds.append("f")
    rels = _rows(conn, _TABLES_SQL, {"kinds": kinds})
    if only is not None:
        wanted = set(only)
        rels = [r for r in rels if (r[1], r[2]) in wanted]
    if match is not None:
        rels = [r for r in rels if match(r[1], r[2])]
    if not rels:
        return []
    oids = [r[0] for r in rels]
    facts = {row[0]: row[1:] for row in _rows(conn, _FACTS_SQL, {"oids": oids})}
    # a relation dropped between the two reads is gone
    rels = [(*r, *facts[r[0]]) for r in rels if r[0] in facts]
    oids = [r[0] for r in rels]
    # what the far side needs to recreate each table, read beside the rest when it can be
    described = pool.submit(pgtypes.describe, side, oids) if side is not None else None
    leaves: dict[int, list[dict[str, Any]]] = {}
    partitioned = [r[0] for r in rels if r[3] == "p"]
    if partitioned:
        for root, oid, nsp, rel, tuples, total, main, leafkind in _rows(conn, _LEAVES_SQL, {"oids": partitioned}):
            leaves.setdefault(root, []).append(
                {
                    "oid": int(oid),
                    "schema": nsp,
                    "name": rel,
                    "row_estimate": max(int(tuples), 0) if tuples is not None else None,
                    "size_bytes": int(total),
                    "pages": int(main) // 8192,
                    "relkind": leafkind,
                }
            )
    columns: dict[int, list[tuple[Any, ...]]] = {}
    type_oids: set[int] = set()
    for row in _rows(conn, _COLUMNS_SQL, {"oids": oids}):
        columns.setdefault(row[0], []).append(row)
        type_oids.add(row[3])
    chains: dict[int, list[tuple[Any, ...]]] = {}
    for row in _rows(conn, _TYPES_SQL, {"oids": sorted(type_oids)}) if type_oids else []:
        chains.setdefault(row[0], []).append(row)
    enum_oids = [rows[-1][2] for rows in chains.values() if rows[-1][5] == "e"]
    enums = {int(k): list(v) for k, v in _rows(conn, _ENUMS_SQL, {"oids": enum_oids})} if enum_oids else {}
    keys: dict[int, list[tuple[str, list[str]]]] = {}
    for relid, contype, cols in _rows(conn, _KEYS_SQL, {"oids": oids}):
        keys.setdefault(relid, []).append((contype, list(cols)))
    # lc_monetary's scale only when a column is money (a round trip saved otherwise)
    money = any(rows[-1][3] == "money" and rows[-1][4] == "pg_catalog" for rows in chains.values())
    mscale = money_scale(conn) if money else 2
    target_facts = described.result() if described is not None else pgtypes.describe(conn, oids)

    tables = []
    for oid, nsp, rel, relkind, persistence, tuples, total, main, readable, comment in rels:
        kind = KINDS[relkind]
        if relkind == "r" and persistence == "u":
            kind = "unlogged"
        cols, plans, ddl_cols, ddl_types = _columns(columns.get(oid, []), chains, enums, options, mscale)
        if not cols:  # a table without columns still has rows: a hidden column carries their count
            cols.append(placeholder_column())
            plans.append(t.ColumnPlan(pa.bool_(), t.KIND_BOOL, as_text="placeholder"))
        pk: tuple[str, ...] = ()
        uniques: list[tuple[str, ...]] = []
        for contype, names in keys.get(oid, []):
            if contype == "p":
                pk = tuple(names)
            else:
                uniques.append(tuple(names))
        if str(options.get("profile", t.DEFAULT_PROFILE)) == "portable":
            cols, renamed = portable_names(cols)
            pk = tuple(renamed.get(c, c) for c in pk)
            uniques = [tuple(renamed.get(c, c) for c in u) for u in uniques]
        props: dict[str, Any] = {
            "oid": int(oid),
            "relkind": relkind,
            "readable": bool(readable),
            "read_plan": [
                [*t.decoder_spec(p), p.as_text if isinstance(p.as_text, str) else bool(p.as_text)] for p in plans
            ],
            "pg_types": target_facts.get(int(oid)),
        }
        if comment:
            props["comment"] = comment
        row_estimate = max(int(tuples), 0) if tuples is not None and tuples >= 0 else None
        size = int(total) if total is not None else None
        if relkind == "p":
            lv = leaves.get(oid, [])
            props["leaves"] = lv
            estimates = [leaf["row_estimate"] for leaf in lv if leaf["row_estimate"] is not None]
            row_estimate = sum(estimates) if estimates else None
            size = sum(leaf["size_bytes"] for leaf in lv)
        elif main is not None:
            props["pages"] = int(main) // 8192
        if tuples is not None and tuples < 0:
            row_estimate = None  # never analyzed
        ddl = _ddl(nsp, rel, ddl_cols, pk, uniques, ddl_types)
        tables.append(
            TableInfo(
                schema=nsp,
                name=rel,
                columns=tuple(cols),
                kind=kind,
                primary_key=pk,
                unique_keys=tuple(uniques),
                row_estimate=row_estimate,
                size_bytes=size,
                ddl=ddl,
                properties=props,
            )
        )
    return tables


def portable_names(cols: Sequence[ColumnInfo]) -> tuple[list[ColumnInfo], dict[str, str]]:
    """``cols`` with case-insensitively colliding names made unique for the portable
    profile (Spark reads names case-insensitively): the first keeps its name, the next get
    ``name__2``, ``name__3``... (one more underscore while that is taken too); and
    ``{original: new}`` of those renamed. Reversible: each renamed column keeps
    its name in ``properties["original_name"]`` and the field metadata ``adu.original_name``."""
    taken = {c.name.lower() for c in cols}
    seen: set[str] = set()
    out: list[ColumnInfo] = []
    renamed: dict[str, str] = {}
    for col in cols:
        key = col.name.lower()
        if key not in seen:
            seen.add(key)
            out.append(col)
            continue
        n, sep = 2, "__"
        while True:
            new = f"{col.name}{sep}{n}"
            if new.lower() not in taken:
                break
            n += 1
            if n > 99:
                n, sep = 2, sep + "_"
        taken.add(new.lower())
        seen.add(new.lower())
        props = dict(col.properties)
        props["original_name"] = col.name
        props["field_metadata"] = {**(props.get("field_metadata") or {}), "adu.original_name": col.name}
        out.append(attrs.evolve(col, name=new, properties=props))
        renamed[col.name] = new
    return out, renamed


#: the hidden column of a table without columns (Parquet needs one; it carries the rows)
PLACEHOLDER = "_adu_placeholder"


def placeholder_column() -> ColumnInfo:
    """The hidden, always-NULL boolean column that keeps the row count of a table without
    columns in its files (``properties["placeholder"]``; loaders drop it)."""
    return ColumnInfo(
        name=PLACEHOLDER,
        source_type="boolean",
        arrow_type=pa.bool_(),
        nullable=True,
        properties={"placeholder": True, "field_metadata": {"adu.placeholder": "true"}},
    )


def _columns(
    rows: Sequence[tuple[Any, ...]],
    chains: Mapping[int, list[tuple[Any, ...]]],
    enums: Mapping[int, list[str]],
    options: Mapping[str, Any],
    mscale: int,
) -> tuple[list[ColumnInfo], list[t.ColumnPlan], list[tuple[str, str, bool]], list[str]]:
    cols: list[ColumnInfo] = []
    plans: list[t.ColumnPlan] = []
    ddl_cols: list[tuple[str, str, bool]] = []
    ddl_types: list[str] = []
    for _relid, _num, name, typoid, typmod, typtext, notnull in rows:
        chain = chains.get(typoid, [])
        base = chain[-1] if chain else None
        # the effective typmod: the column's, else the nearest domain's
        eff_mod = typmod
        if eff_mod < 0:
            for link in chain[:-1]:
                eff_mod = link[7] if link[7] is not None and link[7] >= 0 else eff_mod
                if eff_mod >= 0:
                    break
        if base is None:
            plan = t.ColumnPlan(pa.string(), t.KIND_TEXT, as_text=True, properties={"encoding": t.TEXT_ENCODING})
            base_text = typtext
        else:
            _s, _d, _base_oid, typname, nsp, typtype, category, _tm, _fmt = base
            in_catalog = nsp == "pg_catalog"
            plan = t.plan_column(
                base_type=typname if in_catalog else "",
                typmod=eff_mod,
                category=category,
                typtype=typtype if (in_catalog or typtype in ("e", "c", "r", "m")) else "x",
                options=options,
                money_scale=mscale,
            )
            base_text = _format_with_mod(base[8], typname, eff_mod) if len(chain) > 1 else typtext
        props = dict(plan.properties)
        if len(chain) > 1:
            props["base_type"] = base_text
            props["domain"] = typtext
        if base is not None and base[5] == "e":
            props["enum"] = list(enums.get(base[2], []))
            if props["enum"]:
                labels = ", ".join("'" + x.replace("'", "''") + "'" for x in props["enum"])
                ddl_types.append(f"CREATE TYPE {_qualified_type(base)} AS ENUM ({labels});")
        cols.append(
            ColumnInfo(
                name=name,
                source_type=typtext,
                arrow_type=plan.arrow_type,
                nullable=not notnull,
                properties=props,
            )
        )
        plans.append(plan)
        ddl_cols.append((name, base_text if len(chain) > 1 else typtext, bool(notnull)))
    return cols, plans, ddl_cols, ddl_types


def _qualified_type(base: tuple[Any, ...]) -> str:
    return qualified(base[4], base[3])


def _format_with_mod(fmt: str, typname: str, typmod: int) -> str:
    """``format_type(base, NULL)`` with the domain's typmod put back for common types."""
    if typmod < 0:
        return fmt
    if typname == "numeric":
        ps = t.numeric_typmod(typmod)
        return f"numeric({ps[0]},{ps[1]})" if ps else fmt
    if typname in ("varchar", "bpchar"):
        return f"{fmt}({typmod - 4})"
    return fmt


def _ddl(
    schema: str,
    name: str,
    cols: Sequence[tuple[str, str, bool]],
    pk: Sequence[str],
    uniques: Sequence[Sequence[str]],
    types: Sequence[str],
) -> str:
    lines = [f"    {quote_ident(c)} {typ}{' NOT NULL' if notnull else ''}" for c, typ, notnull in cols]
    if pk:
        lines.append(f"    PRIMARY KEY ({', '.join(quote_ident(c) for c in pk)})")
    for u in uniques:
        lines.append(f"    UNIQUE ({', '.join(quote_ident(c) for c in u)})")
    body = ",\n".join(lines)
    head = "".join(f"{ty}\n" for ty in dict.fromkeys(types))
    return f"{head}CREATE TABLE {qualified(schema, name)} (\n{body}\n);"
