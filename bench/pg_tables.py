"""The PostgreSQL tables of the benchmarks, generated with ``generate_series`` (deterministic).

* ``mixed``: the original 11-column table of ``bench/pg_export.py`` (no primary key,
  ``random()`` numerics, ``gen_random_uuid()``): 3M rows = 521 MB.
* ``wide``: the table of issue 19 (a table "we did not design"): a ``bigint PRIMARY KEY``,
  ``integer``, ``numeric(12,2)``, ``text``, ``varchar(200)`` with 10% NULLs,
  ``timestamptz``, ``date``, ``boolean``, ``uuid``, ``jsonb`` of two keys and
  ``double precision``; every value is a function of the row number (generated, not
  random: the same bytes on every run). The key is loaded in key order, then 1% of the
  rows are updated (an ordinary table's life): those rows move to the end of the heap,
  so a ctid-ordered read no longer sees the key strictly increasing. 3M rows: 526 MB of
  heap, 590 MB with the key's index.
* ``net``: ``mixed``'s numbers, text and time with an inet, a cidr and a macaddr column
  (``bench/pg_load.py --table net``: the encoder's parsing of their text).
* ``type_<col>``: one table per column of ``wide`` (``id`` plus that column alone, same
  values), for the per-type profile.
* ``small.tNNN``: many small ``mixed`` tables.
"""

from __future__ import annotations

from typing import Any

MIXED_SQL = """
CREATE TABLE IF NOT EXISTS {name} (id bigint NOT NULL, i int, n numeric(12,2), t text, v varchar(64),
    ts timestamptz, d date, b bool, u uuid, j jsonb, f double precision);
INSERT INTO {name}
SELECT g, (g % 100000)::int, round((random() * 1e8)::numeric, 2), md5(g::text), 'name-' || g,
       timestamptz '2020-01-01' + g * interval '17 seconds', date '2000-01-01' + (g % 10000), g % 3 = 0,
       gen_random_uuid(), jsonb_build_object('k', g, 'tag', 'x' || (g % 97)), random() * 1000
FROM generate_series({lo}, {hi}) g;
"""

#: ``mixed``'s shape with network addresses: inet (one in four IPv6, some with a mask),
#: cidr and macaddr, which every export profile writes as PostgreSQL's text
NET_SQL = """
CREATE TABLE IF NOT EXISTS {name} (id bigint NOT NULL, i int, n numeric(12,2), t text,
    ts timestamptz, ip inet, nw cidr, mac macaddr);
INSERT INTO {name}
SELECT g, (g % 100000)::int, round((random() * 1e8)::numeric, 2), md5(g::text),
       timestamptz '2020-01-01' + g * interval '17 seconds',
       CASE WHEN g % 4 = 0 THEN ('2001:db8::' || to_hex(g >> 16) || ':' || to_hex(g % 65536) || '/64')::inet
            ELSE ('10.' || (g >> 16) % 256 || '.' || (g >> 8) % 256 || '.' || g % 256)::inet END,
       set_masklen(('172.' || (g >> 16) % 32 + 16 || '.' || (g >> 8) % 256 || '.0')::cidr, 24),
       lpad(to_hex(g * 2654435761 % 281474976710655), 12, '0')::macaddr
FROM generate_series({lo}, {hi}) g;
"""

#: column -> (declaration, expression of the row number ``g``)
WIDE_COLUMNS: dict[str, tuple[str, str]] = {
    "qty": ("integer NOT NULL", "(g * 7919 % 1000003)::int"),
    "amount": ("numeric(12,2) NOT NULL", "((g * 104729 % 1000000007) / 100.0)::numeric(12,2)"),
    "descr": ("text NOT NULL", "'order ' || g || ' c' || (g * 31 % 50021)"),
    "label": (
        "varchar(200)",
        "CASE WHEN g % 10 = 3 THEN NULL"
        " ELSE 'lbl-' || substr(md5(g::text), 1, (4 + g % 16)::int) || '-' || (g % 1000) END",
    ),
    "created": ("timestamptz NOT NULL", "timestamptz '2021-03-01 00:00:00+00' + g * interval '13.125 seconds'"),
    "day": ("date NOT NULL", "date '2010-01-01' + (g * 37 % 5479)::int"),
    "active": ("boolean NOT NULL", "g % 5 <> 0"),
    "ref": ("uuid NOT NULL", "md5('ref' || g)::uuid"),
    "attrs": ("jsonb NOT NULL", "jsonb_build_object('channel', 'ch-' || (g % 23), 'rank', g % 1000)"),
    "score": ("double precision NOT NULL", "(g % 100003) * 0.125 + (g % 7) / 3.0"),
}

#: share of rows updated after the load (they move to the end of the heap)
WIDE_UPDATED_EVERY = 100


def wide_sql(name: str, lo: int, hi: int, columns: list[str] | None = None) -> str:
    """CREATE (if missing) and INSERT rows ``lo..hi`` of the wide table, or of ``id`` plus
    ``columns`` only (the per-type tables)."""
    cols = list(WIDE_COLUMNS) if columns is None else columns
    decls = "".join(f", {c} {WIDE_COLUMNS[c][0]}" for c in cols)
    exprs = "".join(f", {WIDE_COLUMNS[c][1]}" for c in cols)
    return (
        f"CREATE TABLE IF NOT EXISTS {name} (id bigint PRIMARY KEY{decls});\n"
        f"INSERT INTO {name} SELECT g{exprs} FROM generate_series({lo}::bigint, {hi}) g;\n"
    )


def wide_churn_sql(name: str, columns: list[str] | None = None) -> str:
    """Update every ``WIDE_UPDATED_EVERY``-th row in place of nothing (same values): the new
    row versions go to the end of the heap, as an ordinary table's updates do."""
    cols = (list(WIDE_COLUMNS) if columns is None else columns) or ["id"]
    return f"UPDATE {name} SET {cols[0]} = {cols[0]} WHERE id % {WIDE_UPDATED_EVERY} = 7"


def _exists(pg: Any, name: str) -> bool:
    return bool(pg.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))[0][0])


def _size(pg: Any, name: str) -> str:
    return str(pg.execute("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", (name,))[0][0])


def make_mixed(pg: Any, rows: int) -> str:
    name = f"public.mixed_{rows}"
    if not _exists(pg, name):
        print(f"creating {name} ({rows:,} rows)...", flush=True)
        for lo in range(1, rows + 1, 1_000_000):
            pg.execute(MIXED_SQL.format(name=name, lo=lo, hi=min(rows, lo + 999_999)))
        pg.execute(f"VACUUM ANALYZE {name}")
    print(f"{name}: {rows:,} rows, {_size(pg, name)}", flush=True)
    return name


def make_wide(pg: Any, rows: int, columns: list[str] | None = None, name: str | None = None) -> str:
    """The wide table (or a per-type table of ``columns``); returns its qualified name."""
    name = name or f"public.wide_{rows}"
    if not _exists(pg, name):
        print(f"creating {name} ({rows:,} rows)...", flush=True)
        for lo in range(1, rows + 1, 1_000_000):
            pg.execute(wide_sql(name, lo, min(rows, lo + 999_999), columns))
        pg.execute(wide_churn_sql(name, columns))
        pg.execute(f"VACUUM ANALYZE {name}")
    print(f"{name}: {rows:,} rows, {_size(pg, name)}", flush=True)
    return name


def make_types(pg: Any, rows: int, only: list[str] | None = None) -> list[str]:
    """One table per column of the wide table, ``public.type_<col>_<rows>`` (the key and
    that column), and ``public.type_id_<rows>`` (the key alone: what every other costs on top of)."""
    names = [make_wide(pg, rows, [], name=f"public.type_id_{rows}")] if only is None or "id" in only else []
    return names + [
        make_wide(pg, rows, [col], name=f"public.type_{col}_{rows}")
        for col in WIDE_COLUMNS
        if only is None or col in only
    ]


def make_small(pg: Any, count: int, rows: int) -> list[str]:
    pg.execute("CREATE SCHEMA IF NOT EXISTS small")
    names = [f"small.t{i:03d}" for i in range(count)]
    for n in names:
        if not _exists(pg, n):
            pg.execute(MIXED_SQL.format(name=n, lo=1, hi=rows))
    pg.execute("ANALYZE")
    print(f"small: {count} tables x {rows:,} rows", flush=True)
    return names


def make_one_row(pg: Any) -> str:
    """A 1-row wide table (the start-up figures)."""
    name = "public.wide_one"
    if not _exists(pg, name):
        pg.execute(wide_sql(name, 1, 1))
    return name
