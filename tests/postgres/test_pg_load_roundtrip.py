"""PostgreSQL -> adu export -> Parquet -> the loader -> a second database: every row's
``t::text`` is the same on both sides (the oracle is PostgreSQL itself)."""

from __future__ import annotations

import pytest
from adu_postgres.loadrun import load_table
from pg_helpers import ZOO_SQL, find, open_source
from pg_load_helpers import ensure_locale, export, exported_table, row_texts, stage_tables
from pgserver import quote_ident

TYPES_SQL = """
CREATE SCHEMA s2;
CREATE DOMAIN s2.d2 AS varchar(10) COLLATE "C" NOT NULL DEFAULT 'x' CHECK (VALUE <> 'bad');
CREATE TYPE s2.nest AS (p pair, m mood[], d s2.d2, h hstore);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TABLE tt (id int, n s2.nest, ar s2.nest[], r floatrange, c text COLLATE "C", x int CHECK (x > 0),
                 UNIQUE (x, id), PRIMARY KEY (id));
CREATE INDEX tt_idx ON tt (x DESC, lower(c)) WHERE x > 5;
INSERT INTO tt VALUES (1, ROW(ROW(1,'a'), '{sad,ok}', 'dd', 'k=>v'), ARRAY[ROW(NULL, NULL, 'y', NULL)::s2.nest],
                       '[1.5,2.5)', E'x\\ty', 7),
                      (2, NULL, '{}', 'empty', NULL, NULL);
CREATE TABLE events (id int, region text, at timestamptz) PARTITION BY LIST (region);
CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
INSERT INTO events SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, timestamptz '2020-01-01' + g * interval '1 s'
FROM generate_series(1, 3000) g;
"""
TABLES = ("public.zoo", "public.zoo_inf", "public.tt", "public.events")


@pytest.fixture(scope="module")
def money_locale(pg) -> str:
    return ensure_locale(pg, "de_DE.utf8", "de_DE")


@pytest.fixture(scope="module")
def zoo_export(pg, money_locale, tmp_path_factory):
    """The zoo (money under de_DE), user types, indexes and a partitioned table, exported."""
    db = pg.create_database("lzoo")
    db.execute(f"ALTER DATABASE {quote_ident(db.name)} SET lc_monetary = '{money_locale}'", superuser=True)
    db.execute("CREATE EXTENSION hstore", superuser=True)
    db.execute(ZOO_SQL.replace("CREATE EXTENSION IF NOT EXISTS hstore;", "") + TYPES_SQL)
    out = tmp_path_factory.mktemp("lzoo") / "export"
    manifest = export(db.dsn, out, TABLES, "infinity=null")
    source = open_source(db.dsn)
    discovered = {t.qualified_name: t for t in source.discover()}
    source.close()
    try:
        yield db, out, manifest, discovered
    finally:
        db.drop()


@pytest.fixture
def target(pg, money_locale):
    db = pg.create_database("ltgt")
    db.execute(f"ALTER DATABASE {quote_ident(db.name)} SET lc_monetary = '{money_locale}'", superuser=True)
    db.execute("CREATE EXTENSION hstore", superuser=True)
    try:
        yield db
    finally:
        db.drop()


def _load_all(out, manifest, discovered, target_dsn, **kw):
    results = {}
    for entry in manifest["tables"]:
        qn = f"{entry['schema']}.{entry['name']}"
        table, files = exported_table(out, entry, discovered[qn].properties["pg_types"])
        results[qn] = load_table(target_dsn, table, files, job_id="job-1", expected_rows=entry["rows"], **kw)
    return results


def test_type_zoo_round_trips_exactly(zoo_export, target) -> None:
    db, out, manifest, discovered = zoo_export
    results = _load_all(out, manifest, discovered, target.dsn)
    for qn in ("public.zoo", "public.tt", "public.events"):
        schema, name = qn.split(".")
        source_rows = row_texts(db.dsn, schema, name)
        assert source_rows and row_texts(target.dsn, schema, name) == source_rows, qn
    # money under de_DE: the same text on both sides, e.g. "-92.233.720.368.547.758,08 €"
    assert any("€" in (r or "") for r in row_texts(target.dsn, "public", "zoo"))
    # values exported as PostgreSQL text force COPY's text format; the others are binary
    assert results["public.zoo"].copy_format == "text"
    assert results["public.events"].copy_format == "binary"
    assert results["public.events"].rows == 3000
    # infinity=null exported NULL for ±infinity: the loader restores exactly what was written
    expected = db.execute(
        "SELECT ROW(id, CASE WHEN isfinite(d) THEN d END, CASE WHEN ts < '294247-01-01' AND isfinite(ts) THEN ts END,"
        " CASE WHEN isfinite(tstz) THEN tstz END)::text FROM zoo_inf"
    )
    assert sorted(row_texts(target.dsn, "public", "zoo_inf")) == sorted(r[0] for r in expected)
    assert stage_tables(target.dsn) == []


def test_keys_constraints_indexes_and_types_are_recreated(zoo_export, target) -> None:
    db, out, manifest, discovered = zoo_export
    _load_all(out, manifest, discovered, target.dsn)
    q = (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.tt'::regclass"
        " ORDER BY conname"
    )
    assert target.execute(q) == db.execute(q)
    q = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tt' ORDER BY indexname"
    assert target.execute(q) == db.execute(q)
    q = (
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attcollation::regcollation::text"
        " FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY attnum"
    )
    for rel in ("public.zoo", "public.tt"):
        assert target.execute(q, (rel,)) == db.execute(q, (rel,)), rel
    q = (
        "SELECT t.typname, pg_get_constraintdef(c.oid), t.typnotnull, t.typdefault FROM pg_type t"
        " LEFT JOIN pg_constraint c ON c.contypid = t.oid WHERE t.typname IN ('d2', 'posint') ORDER BY 1"
    )
    assert target.execute(q) == db.execute(q)
    q = "SELECT enumlabel FROM pg_enum WHERE enumtypid = 'mood'::regtype ORDER BY enumsortorder"
    assert target.execute(q) == db.execute(q)


def test_schema_mapping_moves_tables_and_their_types(zoo_export, target) -> None:
    db, out, manifest, discovered = zoo_export
    entry = next(e for e in manifest["tables"] if e["name"] == "zoo")
    table, files = exported_table(out, entry, discovered["public.zoo"].properties["pg_types"])
    result = load_table(target.dsn, table, files, job_id="job-m", schema_map={"public": "Mapped Schema"})
    assert (result.schema, result.name, result.rows) == ("Mapped Schema", "zoo", 3)
    assert row_texts(target.dsn, "Mapped Schema", "zoo") == row_texts(db.dsn, "public", "zoo")
    owners = target.execute(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = 'Mapped Schema' AND t.typtype IN ('e', 'd', 'c')"
        " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c') ORDER BY 1"
    )
    assert [r[0] for r in owners] == ["mood", "pair", "posint", "price", "shortname"]
    assert target.execute("SELECT to_regclass('public.zoo')") == [(None,)]


NASTY = [
    ("with space", "dq\"uote's"),
    ("ünïcødé_名前", "MixedCase"),
    ("s" * 63, "t" * 63),
    ("UPPER", "T"),
    ("UPPER", "t"),
]


def test_nasty_identifiers_wide_empty_dropped_and_partitioned(pg, tmp_path) -> None:
    src = pg.create_database("lnames")
    dst = pg.create_database("lnames_t")
    try:
        stmts = []
        for schema, name in NASTY:
            s, n = quote_ident(schema), quote_ident(name)
            stmts.append(f"CREATE SCHEMA IF NOT EXISTS {s}")
            stmts.append(
                f'CREATE TABLE {s}.{n} ("A" int PRIMARY KEY, a text, "col ""x""" text, "{"c" * 63}" int, gone int)'
            )
            stmts.append(f"ALTER TABLE {s}.{n} DROP COLUMN gone")
            stmts.append(f"INSERT INTO {s}.{n} VALUES (1, 'x', E'tab\\tnl\\n\\\\', 2), (2, NULL, '', NULL)")
        wide = ", ".join(f"c{i} int" for i in range(301))
        stmts.append(f"CREATE TABLE wide ({wide})")
        values = ", ".join(f"g + {i}" for i in range(301))
        stmts.append(f"INSERT INTO wide SELECT {values} FROM generate_series(1, 50) g")
        stmts.append("CREATE TABLE empty (id int PRIMARY KEY, t text)")
        src.execute("; ".join(stmts))
        tables = [f"{s}.{n}" for s, n in NASTY] + ["public.wide", "public.empty"]
        out = tmp_path / "export"
        manifest = export(src.dsn, out, tables)
        source = open_source(src.dsn)
        discovered = {t.qualified_name: t for t in source.discover()}
        source.close()
        _load_all(out, manifest, discovered, dst.dsn, parallel=3)
        for schema, name in [*NASTY, ("public", "wide"), ("public", "empty")]:
            assert row_texts(dst.dsn, schema, name) == row_texts(src.dsn, schema, name), (schema, name)
        assert dst.execute("SELECT count(*) FROM wide") == [(50,)]
        t = find(discovered.values(), "UPPER.t")
        # the portable profile (the default) suffixes a name that differs from another only in
        # case (the original in the manifest and field metadata); the load above restored it
        assert [c.name for c in t.columns] == ["A", "a__2", 'col "x"', "c" * 63]
        assert t.column("a__2").properties["original_name"] == "a"
        assert [c["name"] for c in manifest["tables"][0]["columns"]][:2] == ["A", "a__2"]
        assert manifest["tables"][0]["columns"][1]["original_name"] == "a"
        assert manifest["profile"] == "portable"
        assert dst.execute('SELECT a FROM "UPPER".t ORDER BY "A"') == [("x",), (None,)]
    finally:
        src.drop()
        dst.drop()


def test_default_export_of_infinity_nan_far_years_and_no_columns_round_trips(pg, tmp_path) -> None:
    """The defaults export every table (±infinity as DuckDB's extreme values, NaN and
    years past 294246 as exact text, a table without columns with its rows) and the
    loader restores each value."""
    src = pg.create_database("ldefault")
    dst = pg.create_database("ldefault_t")
    try:
        src.execute(
            "CREATE TABLE inf (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz, n numeric(8,3));"
            "INSERT INTO inf VALUES (1, 'infinity', 'infinity', 'infinity', 1.5),"
            " (2, '-infinity', '-infinity', '-infinity', 'NaN'), (3, '5874897-12-31', '294276-12-31 23:59:59.999999',"
            " '4713-01-01 00:00:00+00 BC', -2), (4, NULL, NULL, NULL, NULL);"
            "CREATE TABLE nocols (); INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES;"
            "CREATE TABLE net (id int, i inet, c cidr);"
            "INSERT INTO net VALUES (1, '192.168.1.1', '10.0.0.0/8'), (2, '2001:db8::1/128', '2001:db8::/32'),"
            " (3, '192.168.1.5/24', '192.168.1.0/24')"
        )
        out = tmp_path / "export"
        tables = ("public.inf", "public.nocols", "public.net")
        manifest = export(src.dsn, out, tables)
        entries = {e["name"]: e for e in manifest["tables"]}
        assert entries["nocols"]["rows"] == 2
        assert {c["name"]: c.get("fallback") for c in entries["inf"]["columns"]} == {
            "id": None, "d": None, "ts": "text", "tstz": None, "n": "text"
        }  # fmt: skip
        source = open_source(src.dsn)
        discovered = {t.qualified_name: t for t in source.discover()}
        source.close()
        results = _load_all(out, manifest, discovered, dst.dsn)
        assert results["public.nocols"].rows == 2
        for _, name in (t.split(".") for t in tables):
            assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), name
        assert dst.execute("SELECT count(*) FROM nocols") == [(2,)]
        assert stage_tables(dst.dsn) == []
    finally:
        src.drop()
        dst.drop()
