"""What the far side needs to recreate a table exactly: its types, keys and indexes.

:func:`describe` reads the catalogs of the source once per discovery and gives, per
relation, a JSON-ready structure (``TableInfo.properties["pg_types"]``, carried by the
manifest) from which :mod:`adu_postgres.targetddl` builds the target's DDL::

    {
      "version": 1,
      "columns": [{"type": REF, "base": "int4", "collation": null | [schema, name]}, ...],
      "types": [DEF, ...],          # user types the columns need, dependencies first
      "constraints": [{"name": "t_pkey", "type": "p", "definition": "PRIMARY KEY (id)"}, ...],
      "indexes": [{"name": "t_a_idx", "unique": false, "using": "btree (a DESC)"}, ...]
    }

A type reference (REF) is ``{"sql": "numeric(12,2)"}`` for a built-in type (its
``format_type`` spelling) or ``{"schema": "public", "name": "mood", "array": 0|1}`` for a
user type (so the loader can move it with the schema mapping). A definition (DEF) has
``kind``, ``schema``, ``name`` and:

* ``enum``: ``labels`` in their order;
* ``domain``: ``base`` (REF), ``not_null``, ``default`` (SQL or null), ``checks``
  (``[name, "CHECK (...)"]``), ``collation``;
* ``composite``: ``attributes`` (``[name, REF]``);
* ``range``: ``subtype`` (REF), ``multirange`` (name or null), ``canonical`` (function or
  null: such a range cannot be recreated);
* ``extension``: ``extension`` — the type belongs to an extension (hstore, citext...),
  which must exist on the target;
* ``base``: a base type defined outside any extension (C functions): it must exist on
  the target.

Constraints are primary keys (``p``), unique (``u``), check (``c``) and exclusion (``x``)
constraints with ``pg_get_constraintdef``; foreign keys are not included (they point at
other tables). Indexes are those no constraint owns, as ``CREATE INDEX`` would need them
after ``USING``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VERSION = 1
BUILTIN_SCHEMAS = ("pg_catalog", "information_schema")

_COLUMNS_SQL = """
SELECT a.attrelid, a.atttypid, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attcollation <> ty.typcollation AND a.attcollation <> 0
            THEN ARRAY[cn.nspname::text, co.collname::text] END
FROM pg_attribute a
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_TYPES_SQL = """
SELECT t.oid, n.nspname, t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype,
       format_type(t.typbasetype, t.typtypmod), t.typnotnull, pg_get_expr(t.typdefaultbin, 0), t.typrelid,
       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' LIMIT 1),
       CASE WHEN t.typcollation <> 0 AND t.typtype = 'd'
             AND t.typcollation <> (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype)
            THEN ARRAY[(SELECT nspname FROM pg_namespace WHERE oid = co.collnamespace)::text, co.collname::text] END
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_collation co ON co.oid = t.typcollation
WHERE t.oid = ANY(%(oids)s::oid[])
"""

_ENUMS_SQL = """
SELECT enumtypid, array_agg(enumlabel::text ORDER BY enumsortorder)
FROM pg_enum WHERE enumtypid = ANY(%(oids)s::oid[]) GROUP BY enumtypid
"""

_CHECKS_SQL = """
SELECT contypid, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE contypid = ANY(%(oids)s::oid[]) AND contype = 'c' ORDER BY contypid, conname
"""

_ATTRIBUTES_SQL = """
SELECT t.oid, a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod)
FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
WHERE t.oid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY t.oid, a.attnum
"""

_RANGES_SQL = """
SELECT r.rngtypid, r.rngsubtype, format_type(r.rngsubtype, NULL),
       (SELECT typname FROM pg_type WHERE oid = r.rngmultitypid),
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END
FROM pg_range r WHERE r.rngtypid = ANY(%(oids)s::oid[])
"""

_CONSTRAINTS_SQL = """
SELECT conrelid, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = ANY(%(oids)s::oid[]) AND contype IN ('p', 'u', 'c', 'x')
ORDER BY conrelid, CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 ELSE 3 END, conname
"""

_INDEXES_SQL = """
SELECT i.indrelid, ic.relname, i.indisunique, pg_get_indexdef(i.indexrelid),
       format('CREATE %%sINDEX %%s ON %%s%%s.%%s USING ', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
              quote_ident(ic.relname), CASE WHEN rel.relkind = 'p' THEN 'ONLY ' ELSE '' END,
              quote_ident(n.nspname), quote_ident(rel.relname))
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class rel ON rel.oid = i.indrelid
JOIN pg_namespace n ON n.oid = rel.relnamespace
WHERE i.indrelid = ANY(%(oids)s::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
ORDER BY i.indrelid, ic.relname
"""


def _rows(conn: Any, query: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


class _Types:
    """The catalog rows of every type reachable from the columns, read in rounds."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.rows: dict[int, tuple[Any, ...]] = {}
        self.labels: dict[int, list[str]] = {}
        self.checks: dict[int, list[list[str]]] = {}
        self.attributes: dict[int, list[tuple[str, int, str]]] = {}
        self.ranges: dict[int, tuple[int, str, str | None, str | None]] = {}

    def load(self, oids: set[int]) -> None:
        todo = set(oids)
        while todo:
            params = {"oids": sorted(todo)}
            new = {int(r[0]): r for r in _rows(self.conn, _TYPES_SQL, params)}
            self.rows.update(new)
            user = sorted(o for o, r in new.items() if r[1] not in BUILTIN_SCHEMAS)
            nxt: set[int] = set()
            for _oid, r in new.items():
                if r[4] == "A" and r[5]:
                    nxt.add(int(r[5]))
                if r[3] == "d":
                    nxt.add(int(r[6]))
            if user:
                uparams = {"oids": user}
                self.labels.update({int(k): list(v) for k, v in _rows(self.conn, _ENUMS_SQL, uparams)})
                for tid, name, definition in _rows(self.conn, _CHECKS_SQL, uparams):
                    self.checks.setdefault(int(tid), []).append([name, definition])
                for tid, name, atttyp, fmt in _rows(self.conn, _ATTRIBUTES_SQL, uparams):
                    self.attributes.setdefault(int(tid), []).append((name, int(atttyp), fmt))
                    nxt.add(int(atttyp))
                for tid, sub, fmt, multi, canonical in _rows(self.conn, _RANGES_SQL, uparams):
                    self.ranges[int(tid)] = (int(sub), fmt, multi, canonical)
                    nxt.add(int(sub))
            todo = nxt - set(self.rows)

    def ref(self, oid: int, fmt: str) -> dict[str, Any]:
        """The reference to type ``oid`` (spelled ``fmt`` by ``format_type``)."""
        row = self.rows.get(oid)
        if row is None:
            return {"sql": fmt}
        array = 0
        if row[4] == "A" and row[5] and int(row[5]) in self.rows:
            array, row = 1, self.rows[int(row[5])]
        if row[1] in BUILTIN_SCHEMAS:
            return {"sql": fmt}
        return {"schema": row[1], "name": row[2], "array": array}

    def base_name(self, oid: int) -> str:
        """``typname`` of the type after resolving domains (arrays keep their own name)."""
        row = self.rows.get(oid)
        while row is not None and row[3] == "d":
            row = self.rows.get(int(row[6]))
        return str(row[2]) if row is not None else ""

    def definitions(self, oids: Sequence[int]) -> list[dict[str, Any]]:
        """The definitions of the user types ``oids`` need, dependencies first."""
        out: list[dict[str, Any]] = []
        seen: set[int] = set()

        def visit(oid: int) -> None:
            if oid in seen or oid not in self.rows:
                return
            seen.add(oid)
            row = self.rows[oid]
            if row[4] == "A" and row[5]:
                visit(int(row[5]))
                return
            if row[1] in BUILTIN_SCHEMAS:
                return
            if row[3] == "d":
                visit(int(row[6]))
            for _name, atttyp, _fmt in self.attributes.get(oid, []):
                visit(atttyp)
            if oid in self.ranges:
                visit(self.ranges[oid][0])
            out.append(self._definition(oid))

        for oid in oids:
            visit(oid)
        return out

    def _definition(self, oid: int) -> dict[str, Any]:
        (_o, nsp, name, typtype, _cat, _elem, basetype, basefmt, notnull, default, _relid, ext, coll) = self.rows[oid]
        head: dict[str, Any] = {"schema": nsp, "name": name}
        if ext:
            return {"kind": "extension", **head, "extension": ext}
        if typtype == "e":
            return {"kind": "enum", **head, "labels": self.labels.get(oid, [])}
        if typtype == "d":
            return {
                "kind": "domain",
                **head,
                "base": self.ref(int(basetype), basefmt),
                "not_null": bool(notnull),
                "default": default,
                "checks": self.checks.get(oid, []),
                "collation": list(coll) if coll else None,
            }
        if typtype == "c":
            attrs = [[n, self.ref(t, f)] for n, t, f in self.attributes.get(oid, [])]
            return {"kind": "composite", **head, "attributes": attrs}
        if typtype == "r" and oid in self.ranges:
            sub, fmt, multi, canonical = self.ranges[oid]
            return {
                "kind": "range",
                **head,
                "subtype": self.ref(sub, fmt),
                "multirange": multi,
                "canonical": canonical,
            }
        return {"kind": "base", **head}


def describe(conn: Any, oids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """``pg_types`` (see the module docstring) of every relation in ``oids``."""
    if not oids:
        return {}
    params = {"oids": list(oids)}
    columns: dict[int, list[tuple[int, str, Any]]] = {}
    for relid, typ, fmt, coll in _rows(conn, _COLUMNS_SQL, params):
        columns.setdefault(int(relid), []).append((int(typ), fmt, coll))
    types = _Types(conn)
    types.load({typ for cols in columns.values() for typ, _f, _c in cols})
    constraints: dict[int, list[dict[str, Any]]] = {}
    for relid, name, contype, definition in _rows(conn, _CONSTRAINTS_SQL, params):
        constraints.setdefault(int(relid), []).append({"name": name, "type": contype, "definition": definition})
    indexes: dict[int, list[dict[str, Any]]] = {}
    for relid, name, unique, definition, prefix in _rows(conn, _INDEXES_SQL, params):
        if str(definition).startswith(prefix):  # otherwise a form we do not know: left out
            indexes.setdefault(int(relid), []).append(
                {"name": name, "unique": bool(unique), "using": str(definition)[len(prefix) :]}
            )
    out: dict[int, dict[str, Any]] = {}
    for oid in oids:
        cols = columns.get(int(oid), [])
        out[int(oid)] = {
            "version": VERSION,
            "columns": [
                {"type": types.ref(t, f), "base": types.base_name(t), "collation": list(c) if c else None}
                for t, f, c in cols
            ],
            "types": types.definitions([t for t, _f, _c in cols]),
            "constraints": constraints.get(int(oid), []),
            "indexes": indexes.get(int(oid), []),
        }
    return out
