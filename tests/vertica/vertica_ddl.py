"""DDL of the test server: the statements ADU's Vertica loader (and the tests) send.

``CREATE SCHEMA [IF NOT EXISTS] s``;
``CREATE TABLE [IF NOT EXISTS] s.t (col type [NOT NULL], ..., [PRIMARY KEY (cols)])
[SEGMENTED BY HASH(cols) ALL NODES | UNSEGMENTED ALL NODES]``;
``CREATE TABLE s.t LIKE s.u [INCLUDING PROJECTIONS]``;
``DROP TABLE [IF EXISTS] s.t [, ...] [CASCADE]``;
``ALTER TABLE s.a [, s.b ...] RENAME TO x [, y ...]`` — atomic, as Vertica documents it:
all tables are renamed or none (a name already taken, or lists of different lengths,
rename nothing). DDL commits the session's open transaction first, as in Vertica.
Types are Vertica's (:func:`vertica_types.parse_type`); a type the test server does not
know is an error, never a silent VARCHAR.
"""

from __future__ import annotations

import re
from typing import Any

from vertica_sqltext import QUALIFIED, Unsupported, find_keyword, ident, leading_name, qualified_name, split_top

_CREATE_SCHEMA = re.compile(r"^\s*CREATE\s+SCHEMA\s+(IF\s+NOT\s+EXISTS\s+)?(\S+)\s*$", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?", re.IGNORECASE)
_DROP = re.compile(r"^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(.+?)(\s+CASCADE)?\s*$", re.IGNORECASE | re.DOTALL)
_RENAME = re.compile(r"^\s*ALTER\s+TABLE\s+(.+?)\s+RENAME\s+TO\s+(.+?)\s*$", re.IGNORECASE | re.DOTALL)
_SEGMENTED = re.compile(r"SEGMENTED\s+BY\s+HASH\s*\((.*?)\)\s*ALL\s+NODES", re.IGNORECASE | re.DOTALL)


def statement(engine: Any, sql: str, session: Any) -> str | None:
    """Run a DDL statement; its command tag, or None when ``sql`` is not DDL."""
    from vertica_engine import ColumnDef, SqlError, TableDef

    m = _CREATE_SCHEMA.match(sql)
    if m:
        name = ident(m.group(2))
        engine.history.commit(session)
        if name in engine.schemas and not m.group(1):
            raise SqlError("42710", f'Schema "{name}" already exists', 4213)
        engine.privileges.require_superuser(session.user)
        engine.ensure_schema(name)
        return "CREATE SCHEMA"
    m = _CREATE_TABLE.match(sql)
    if m:
        engine.history.commit(session)
        (schema, name), rest = leading_name(sql[m.end() :])
        if schema not in engine.schemas:
            raise SqlError("3F000", f'Schema "{schema}" does not exist', 4650)
        engine.privileges.check_schema(session.user, schema, "CREATE")
        if (schema, name) in engine.tables:
            if m.group(1):
                return "CREATE TABLE"
            raise SqlError("42P07", f'Object "{name}" already exists', 4213)
        rest = rest.strip()
        like = re.match(rf"LIKE\s+({QUALIFIED})(\s+INCLUDING\s+PROJECTIONS)?\s*$", rest, re.IGNORECASE)
        if like:
            src = engine.tables.get(qualified_name(like.group(1)))
            if src is None:
                raise SqlError("42V01", f'Table "{like.group(1)}" does not exist', 4566)
            t = TableDef(schema, name, list(src.columns), [], src.primary_key, src.segmented_by)
        else:
            t = _table_def(schema, name, rest, ColumnDef, TableDef)
        engine.create_table(t, owner=session.user)
        return "CREATE TABLE"
    m = _DROP.match(sql)
    if m:
        engine.history.commit(session)
        names = [qualified_name(x) for x in split_top(m.group(2))]
        for key in names:
            if key not in engine.tables:
                if m.group(1):
                    continue
                raise SqlError("42V01", f'Table "{key[1]}" does not exist', 4566)
            engine.privileges.check_owner(session.user, engine.table_ids[key], key[1])
        for key in names:
            if key in engine.tables:
                engine.drop_table(*key)
        return "DROP TABLE"
    m = _RENAME.match(sql)
    if m:
        engine.history.commit(session)
        olds = [qualified_name(x) for x in split_top(m.group(1))]
        news = [ident(x) for x in split_top(m.group(2))]
        if len(olds) != len(news):
            raise SqlError("42601", "The number of tables to rename does not match the number of new names", 4856)
        for key in olds:
            if key not in engine.tables:
                raise SqlError("42V01", f'Table "{key[1]}" does not exist', 4566)
            engine.privileges.check_owner(session.user, engine.table_ids[key], key[1])
        engine.rename_tables(olds, news)
        return "ALTER TABLE"
    return None


def _table_def(schema: str, name: str, rest: str, ColumnDef: Any, TableDef: Any) -> Any:
    from vertica_engine import SqlError
    from vertica_types import parse_type

    if not rest.startswith("("):
        raise Unsupported(f"CREATE TABLE form not modelled: {rest[:40]!r}")
    depth, end = 0, -1
    for i, ch in enumerate(rest):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            end = i
            break
    body, tail = rest[1:end], rest[end + 1 :]
    columns, pk = [], ()
    for item in split_top(body):
        m = re.match(r"PRIMARY\s+KEY\s*\((.*)\)\s*$", item, re.IGNORECASE | re.DOTALL)
        if m:
            pk = tuple(ident(c) for c in split_top(m.group(1)))
            continue
        m = re.match(r'\s*("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+(.*)$', item, re.DOTALL)
        if not m:
            raise Unsupported(f"cannot read the column {item!r}")
        cname, typ = ident(m.group(1)), m.group(2).strip()
        not_null = find_keyword(typ, "NOT") >= 0 and re.search(r"\bNOT\s+NULL\b", typ, re.IGNORECASE) is not None
        typ = re.sub(r"\bNOT\s+NULL\b|\bNULL\b", "", typ, flags=re.IGNORECASE).strip()
        try:
            vt = parse_type(typ)
        except ValueError:
            raise SqlError("42704", f'Type "{typ}" does not exist', 3571) from None
        columns.append(ColumnDef(cname, vt.sql(), nullable=not not_null))
    seg = _SEGMENTED.search(tail)
    segmented = tuple(ident(c) for c in split_top(seg.group(1))) if seg else (pk or None)
    for c in pk:  # a primary key implies NOT NULL in Vertica
        for col in columns:
            if col.name == c:
                col.nullable = False
    return TableDef(schema, name, columns, [], primary_key=pk, segmented_by=segmented)
