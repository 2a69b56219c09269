"""``adu load DIR duckdb:///file``: checked against DuckDB's own read of the source
(``postgres_scan`` through its postgres extension, from the ``duckdb-ext-postgres`` wheel,
never downloaded) for every type DuckDB has; the others are kept as PostgreSQL's exact
text and named in the job report."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pytest
from needs import skip_or_fail
from pg_load_helpers import export
from test_adu_load import adu_load

SOURCE_SQL = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE dk (
    id int PRIMARY KEY, s smallint, b bigint, n numeric(12,2), f8 double precision, f4 real, ok boolean,
    t text, v varchar(10), d date, ts timestamp, tz timestamptz, tm time, iv interval, u uuid, by bytea,
    j jsonb, m mood,
    un numeric, ttz timetz, ip inet, arr int[]
);
INSERT INTO dk VALUES
 (1, -32768, 9223372036854775807, -1234567890.12, 'NaN', '-0', true, E'tab\\tnl\\n\\\\ ünï', 'x', '2024-02-29',
  '1999-12-31 23:59:59.999999', '2020-06-01 12:00:00+02', '24:00:00', '-1 year -2 days +03:04:05.000006',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff', '{"a": [1, 2.50]}', 'happy',
  '3.14159265358979323846264338327950288419716939937510', '12:00:00+05:30', '10.0.0.1/8', '{{1,2},{3,4}}'),
 (2, NULL, NULL, NULL, 'Infinity', '-Infinity', NULL, '', NULL, '0044-03-15 BC', NULL, NULL, '00:00:00',
  '1 mon', NULL, '\\x', 'null', 'sad', 'NaN', NULL, NULL, '{}'),
 (3, 0, -1, 0.01, -0.0, 1.5, false, NULL, '', NULL, '2262-04-11 23:47:16', '1970-01-01 00:00:00+00', NULL,
  NULL, '00000000-0000-0000-0000-000000000000', NULL, NULL, NULL, '-1e-20', '00:00:00-12', '::1', NULL);
"""
#: columns DuckDB has an exact type for
TYPED = ("id", "s", "b", "n", "f8", "f4", "ok", "t", "v", "d", "ts", "tz", "tm", "iv", "u", "by", "j", "m")
#: exported as PostgreSQL text: kept as text, named in the report
AS_TEXT = ("un", "ttz", "ip", "arr")


def _extension_dir() -> str:
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        skip_or_fail("duckdb-ext-postgres is not installed (scripts/bootstrap.py installs it)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


def _texts(con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...]) -> list[tuple[str | None, ...]]:
    cols = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
    return con.execute(f"SELECT {cols} FROM {relation} ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def duck_export(pg, tmp_path_factory):
    db = pg.create_database("lduck")
    db.execute(SOURCE_SQL)
    outs = {}
    for uuid_form in ("bytes", "text"):  # the portable profile's 16 bytes (default), the uuid=text option
        outs[uuid_form] = tmp_path_factory.mktemp(f"lduck-{uuid_form}") / "export"
        export(db.dsn, outs[uuid_form], ["public.dk"], *(["uuid=text"] if uuid_form == "text" else []))
    try:
        yield db, outs
    finally:
        db.drop()


@pytest.mark.parametrize("uuid_form", ["bytes", "text"])
def test_duckdb_target_matches_duckdbs_own_read_of_the_source(duck_export, tmp_path, uuid_form) -> None:
    db, outs = duck_export
    out = outs[uuid_form]
    target = tmp_path / "far side.duckdb"
    proc = adu_load(out, f"duckdb:///{target}", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    (table,) = report["tables"]
    assert table["rows"] == 3
    assert sorted(table["target"]["text_columns"]) == sorted(AS_TEXT)

    con = duckdb.connect(
        config={
            "extension_directory": _extension_dir(),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    try:
        con.execute("LOAD postgres")
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{target}' AS far (READ_ONLY)")
        dsn = db.dsn.replace("'", "''")
        scan = f"postgres_scan('{dsn}', 'public', 'dk')"
        assert _texts(con, "far.public.dk", TYPED) == _texts(con, scan, TYPED)
        # the types themselves, not only their text
        types = dict(
            con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'far'").fetchall()
        )
        assert types["n"] == "DECIMAL(12,2)" and types["iv"] == "INTERVAL" and types["u"] == "UUID"
        assert types["tz"] == "TIMESTAMP WITH TIME ZONE" and types["tm"] == "TIME" and types["by"] == "BLOB"
        assert all(types[c] == "VARCHAR" for c in AS_TEXT)
        keys = con.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE database_name = 'far' AND table_name = 'dk'"
        ).fetchall()
        assert ("PRIMARY KEY",) in keys
    finally:
        con.close()
    # the text columns hold PostgreSQL's own text of each value, exactly
    far = duckdb.connect(str(target), read_only=True)
    try:
        got = far.execute("SELECT id, un, ttz, ip, arr FROM public.dk ORDER BY id").fetchall()
    finally:
        far.close()
    # inet as PostgreSQL's output function writes it (a ::text cast would add /128)
    want = db.execute(
        "SELECT id, un::text, ttz::text, CASE WHEN ip IS NOT NULL THEN format('%s', ip) END, arr::text"
        " FROM dk ORDER BY id"
    )
    assert got == [tuple(r) for r in want]


def _count(target: Path) -> int:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM public.dk").fetchone()[0])
    finally:
        con.close()


def test_duckdb_target_is_atomic_per_table(duck_export, tmp_path) -> None:
    _db, outs = duck_export
    out = outs["bytes"]
    target = tmp_path / "t.duckdb"
    assert adu_load(out, f"duckdb:///{target}").returncode == 0
    again = adu_load(out, f"duckdb:///{target}")
    assert again.returncode == 1
    assert "already exists" in again.stdout + again.stderr
    # append breaks the primary key half-way: nothing of it stays
    appended = adu_load(out, f"duckdb:///{target}", "--if-exists", "append")
    assert appended.returncode == 1
    assert "primary key" in appended.stdout + appended.stderr
    assert _count(target) == 3
    assert adu_load(out, f"duckdb:///{target}", "--if-exists", "truncate").returncode == 0
    assert _count(target) == 3
    assert adu_load(out, f"duckdb:///{target}", "--if-exists", "replace", "--schema-map", "public=main").returncode == 0
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM main.dk").fetchone() == (3,)
    finally:
        con.close()
