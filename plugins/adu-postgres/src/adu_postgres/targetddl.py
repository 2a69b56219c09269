"""The target's DDL, built from what the export recorded (see :mod:`adu_postgres.pgtypes`).

Three steps, in pg_restore's order:

1. :func:`ensure_types`: the user types the table needs, in dependency order — enums
   (labels in order), domains (base type, NOT NULL, DEFAULT, CHECKs, collation),
   composite types, range types — created when missing (in the schema the mapping gives
   their own schema); types of extensions (hstore, citext...) must already exist on the
   target, otherwise a one-line error names the type and the extension.
2. :func:`create_table`: the (staging) table with every column's exact type, its
   collation and NOT NULL (checked per row while COPY runs, as pg_restore does: cheaper
   than a scan afterwards).
3. :func:`post_data`: primary key, unique, check and exclusion constraints, then the
   other indexes, once the data is in.

Built-in type names come from the export's manifest as text; they are accepted only in
the shape ``format_type`` gives them (words, a type modifier, ``[]``), so a tampered
manifest cannot slip SQL in through a column type. Domain defaults and CHECKs, constraint
and index definitions are SQL by nature (as in a pg_dump file): load only exports whose
manifest verified (and whose signature did, when it is signed).

Without ``pg_types`` (an export made before it was recorded), columns are created from
their ``source_type`` text and the keys from ``primary_key``/``unique_keys``; user types
must then exist on the target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import TableInfo
from psycopg2 import sql

#: advisory lock (first key) serialising type creation between concurrent table loads
TYPES_LOCK = 0x414455  # "ADU"

_TYPMOD = re.compile(r"\(\d+(?:,-?\d+)?\)")
_TYPE_WORDS = re.compile(
    r'^(?:"char"|[a-z_][a-z0-9_$]*(?:\.[a-z_][a-z0-9_$]*)?)'
    r"(?: (?:varying|precision|with|without|time|zone|year|month|day|hour|minute|second|to))*$"
)


class TargetTypeError(UsageError):
    """A type the target lacks and the loader cannot create (one line)."""


def safe_type_sql(text: str) -> sql.SQL:
    """A built-in type's ``format_type`` spelling as SQL, refusing anything else."""
    shape = _TYPMOD.sub("", text.strip())
    while shape.endswith("[]"):
        shape = shape[:-2]
    if not _TYPE_WORDS.match(shape):
        raise UsageError(f"not a PostgreSQL type name: {text!r}")
    return sql.SQL(text.strip())


def map_schema(schema: str, schema_map: Mapping[str, str] | None) -> str:
    return (schema_map or {}).get(schema, schema)


class TypeNames:
    """Renders type references for the target: user types through the schema mapping,
    extension types in the schema their extension lives in on the target."""

    def __init__(self, schema_map: Mapping[str, str] | None, extension_schemas: Mapping[tuple[str, str], str]) -> None:
        self.schema_map = schema_map or {}
        self.extension_schemas = extension_schemas

    def render(self, ref: Mapping[str, Any]) -> sql.Composable:
        if "sql" in ref:
            return safe_type_sql(str(ref["sql"]))
        key = (str(ref["schema"]), str(ref["name"]))
        schema = self.extension_schemas.get(key) or map_schema(key[0], self.schema_map)
        out: sql.Composable = sql.Identifier(schema, key[1])
        if int(ref.get("array", 0)):
            out = sql.SQL("{}[]").format(out)
        return out


def _type_oid(cur: Any, schema: str, name: str) -> int | None:
    cur.execute(
        "SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = %s AND t.typname = %s",
        (schema, name),
    )
    row = cur.fetchone()
    return int(row[0]) if row else None


def _extension_schema(cur: Any, extension: str, name: str) -> str | None:
    cur.execute(
        "SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'"
        " JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass"
        " WHERE e.extname = %s AND t.typname = %s",
        (extension, name),
    )
    row = cur.fetchone()
    return str(row[0]) if row else None


def _check_existing(cur: Any, d: Mapping[str, Any], oid: int, label: str) -> None:
    """An existing type must hold what the data needs (enum labels, composite fields)."""
    if d["kind"] == "enum":
        cur.execute(
            "SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = %s", (oid,)
        )
        have = list(cur.fetchone()[0] or [])
        missing = [x for x in d.get("labels", []) if x not in have]
        if missing:
            raise TargetTypeError(f"type {label} exists on the target without the label(s) {missing}")
    elif d["kind"] == "composite":
        cur.execute(
            "SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_type t JOIN pg_attribute a"
            " ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped WHERE t.oid = %s",
            (oid,),
        )
        have = list(cur.fetchone()[0] or [])
        want = [a[0] for a in d.get("attributes", [])]
        if have != want:
            raise TargetTypeError(f"type {label} exists on the target with other fields {have} (the data has {want})")


def _create_statement(d: Mapping[str, Any], name: sql.Composable, names: TypeNames, label: str) -> sql.Composable:
    kind = d["kind"]
    if kind == "enum":
        labels = sql.SQL(", ").join(sql.Literal(x) for x in d.get("labels", []))
        return sql.SQL("CREATE TYPE {} AS ENUM ({})").format(name, labels)
    if kind == "domain":
        parts = [sql.SQL("CREATE DOMAIN {} AS {}").format(name, names.render(d["base"]))]
        if d.get("collation"):
            parts.append(sql.SQL("COLLATE {}").format(sql.Identifier(*d["collation"])))
        if d.get("default") is not None:
            parts.append(sql.SQL("DEFAULT ") + sql.SQL(str(d["default"])))
        if d.get("not_null"):
            parts.append(sql.SQL("NOT NULL"))
        for cname, definition in d.get("checks", []):
            parts.append(sql.SQL("CONSTRAINT {} ").format(sql.Identifier(cname)) + sql.SQL(str(definition)))
        return sql.SQL(" ").join(parts)
    if kind == "composite":
        fields = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(a), names.render(ref)) for a, ref in d.get("attributes", [])
        )
        return sql.SQL("CREATE TYPE {} AS ({})").format(name, fields)
    if kind == "range" and not d.get("canonical"):
        opts = [sql.SQL("SUBTYPE = {}").format(names.render(d["subtype"]))]
        if d.get("multirange"):
            opts.append(sql.SQL("MULTIRANGE_TYPE_NAME = {}").format(sql.Identifier(d["multirange"])))
        return sql.SQL("CREATE TYPE {} AS RANGE ({})").format(name, sql.SQL(", ").join(opts))
    what = "a range type with a canonical function" if kind == "range" else f"a {kind} type"
    raise TargetTypeError(f"type {label} ({what}) does not exist on the target and cannot be created by ADU")


def ensure_types(cur: Any, pg_types: Mapping[str, Any] | None, schema_map: Mapping[str, str] | None) -> TypeNames:
    """Create the user types the table needs that the target lacks (call inside a
    transaction; it takes an advisory lock so concurrent table loads do not race).

    :returns: the renderer of the table's type references.
    :raises TargetTypeError: an extension's type the target lacks, an existing type that
        does not fit, a type ADU cannot recreate.
    """
    defs = list((pg_types or {}).get("types") or [])
    extension_schemas: dict[tuple[str, str], str] = {}
    if not defs:
        return TypeNames(schema_map, extension_schemas)
    cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (TYPES_LOCK,))
    names = TypeNames(schema_map, extension_schemas)
    for d in defs:
        key = (str(d["schema"]), str(d["name"]))
        if d["kind"] == "extension":
            found = _extension_schema(cur, str(d["extension"]), key[1])
            if found is None:
                raise TargetTypeError(
                    f"type {key[0]}.{key[1]} (extension {d['extension']}) does not exist on the target:"
                    f" CREATE EXTENSION {d['extension']} there first"
                )
            extension_schemas[key] = found
            continue
        schema = map_schema(key[0], schema_map)
        label = f"{schema}.{key[1]}"
        oid = _type_oid(cur, schema, key[1])
        if oid is not None:
            _check_existing(cur, d, oid, label)
            continue
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        cur.execute(_create_statement(d, sql.Identifier(schema, key[1]), names, label))
    return names


_VERTICA_SCALARS = {
    **dict.fromkeys(("int", "integer", "bigint", "smallint", "tinyint", "int8"), "bigint"),  # all 64-bit
    **dict.fromkeys(("float", "float8", "double precision", "real", "double"), "double precision"),
    **dict.fromkeys(("binary", "varbinary", "long varbinary", "bytea", "raw"), "bytea"),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
    "long varchar": "text",
    "date": "date",
    "uuid": "uuid",
}


_INTERVAL_RANGE = re.compile(r"interval( (year|month|day|hour|minute|second)( to (month|hour|minute|second))?)?")


def vertica_type(source_type: str) -> str:
    """The PostgreSQL type of a Vertica column (its ``v_catalog`` type name): INTEGER is
    bigint, FLOAT double precision, (VAR)BINARY bytea, TIME(TZ)/TIMESTAMP(TZ) with their
    precision, both INTERVAL kinds as they are spelled, NUMERIC(p,s) up to PostgreSQL's
    precision 1000; ARRAY/SET/ROW, GEOMETRY and anything else: text (their JSON or text)."""
    low = " ".join(source_type.strip().lower().split())
    m = re.fullmatch(r"([a-z ]+?)\s*(?:\((\d+)(?:,(\d+))?\))?", low.replace(", ", ","))
    if not m:
        return "text"
    name, a, b = m.group(1), m.group(2), m.group(3)
    if name in _VERTICA_SCALARS:
        return _VERTICA_SCALARS[name]
    if name in ("numeric", "decimal", "number", "money"):
        p, s = int(a or 37), int(b or (15 if a is None else 0))
        return f"numeric({p},{s})" if p <= 1000 else "numeric"
    if name in ("char", "character", "varchar", "character varying"):
        n = f"({a})" if a else ""
        return f"character{n}" if name.startswith("char") and "var" not in name else f"character varying{n}"
    precision = f"({min(int(a), 6)})" if a else ""
    if name in ("time", "timetz", "timestamp", "timestamptz", "datetime", "smalldatetime"):
        zone = " with time zone" if name.endswith("tz") else ""
        return f"{'time' if name.startswith('time') and 'stamp' not in name else 'timestamp'}{precision}{zone}"
    if name.startswith("interval"):
        return (
            low
            if re.fullmatch(r"interval( (year|month|day|hour|minute|second)( to (month|hour|minute|second))?)?", low)
            else "interval"
        )
    return "text"


def column_types(table: TableInfo, names: TypeNames) -> list[sql.Composable]:
    """The SQL type of every column (with its collation when it differs from the type's)."""
    facts = list(((table.properties or {}).get("pg_types") or {}).get("columns") or [])
    if (table.properties or {}).get("source_kind") == "vertica":  # Vertica's type names
        return [safe_type_sql(vertica_type(c.source_type)) for c in table.columns]
    if len(facts) != len(table.columns):
        return [safe_type_sql(c.source_type) for c in table.columns]
    out = []
    for fact in facts:
        typ = names.render(fact["type"])
        if fact.get("collation"):
            typ = sql.SQL("{} COLLATE {}").format(typ, sql.Identifier(*fact["collation"]))
        out.append(typ)
    return out


def create_table(
    table: TableInfo, schema: str, name: str, names: TypeNames, *, not_null: bool = True, unlogged: bool = False
) -> sql.Composed:
    """``CREATE TABLE schema.name`` with ``table``'s columns (NOT NULL where the source had it)."""
    cols = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.name), typ, sql.SQL(" NOT NULL" if not_null and not c.nullable else "")
        )
        for c, typ in zip(table.columns, column_types(table, names), strict=True)
    ]
    head = "CREATE UNLOGGED TABLE {} ({})" if unlogged else "CREATE TABLE {} ({})"
    return sql.SQL(head).format(sql.Identifier(schema, name), sql.SQL(", ").join(cols))


def post_data(
    table: TableInfo, schema: str, name: str, temp_name: Callable[[int], str]
) -> tuple[list[sql.Composed], list[tuple[str, str]]]:
    """Statements adding the table's constraints and indexes to ``schema.name``, and the
    renames ``(temporary, final)`` of the indexes they create (relation names are unique
    per schema: they get their final names when the table is published).
    """
    facts = (table.properties or {}).get("pg_types") or {}
    rel = sql.Identifier(schema, name)
    stmts: list[sql.Composed] = []
    renames: list[tuple[str, str]] = []
    constraints: Sequence[Mapping[str, Any]] = facts.get("constraints") or _key_constraints(table, name)
    for con in constraints:
        final = str(con["name"])
        if con["type"] in ("p", "u", "x"):
            tmp = temp_name(len(renames))
            renames.append((tmp, final))
            final = tmp
        stmts.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(rel, sql.Identifier(final)) + sql.SQL(con["definition"])
        )
    for idx in facts.get("indexes") or []:
        tmp = temp_name(len(renames))
        renames.append((tmp, str(idx["name"])))
        unique = sql.SQL("UNIQUE ") if idx.get("unique") else sql.SQL("")
        stmts.append(
            sql.SQL("CREATE {}INDEX {} ON {} USING ").format(unique, sql.Identifier(tmp), rel) + sql.SQL(idx["using"])
        )
    return stmts, renames


def _key_constraints(table: TableInfo, name: str) -> list[dict[str, Any]]:
    """Primary key and unique constraints from the table's key lists (no ``pg_types``),
    named as PostgreSQL names them by default."""
    out: list[dict[str, Any]] = []

    def cols(names: Sequence[str]) -> str:
        return ", ".join('"' + c.replace('"', '""') + '"' for c in names)

    if table.primary_key:
        out.append({"name": f"{name}_pkey"[:63], "type": "p", "definition": f"PRIMARY KEY ({cols(table.primary_key)})"})
    for key in table.unique_keys:
        out.append({"name": f"{name}_{'_'.join(key)}_key"[:63], "type": "u", "definition": f"UNIQUE ({cols(key)})"})
    return out
