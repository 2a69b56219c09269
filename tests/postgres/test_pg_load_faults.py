"""The loader under faults: a terminated backend, a killed loader, an existing target, a
column that no longer fits, a type the target lacks, no privilege — each a one-line
error with the target as it was, and a re-run that never duplicates rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.errors import UsageError
from adu_core.models import ColumnInfo, TableInfo
from adu_postgres import copyin
from adu_postgres.loader import TableLoad
from adu_postgres.loaderror import LoadError
from adu_postgres.loadrun import load_table
from adu_postgres.partload import PartitionLoad
from pg_helpers import open_source
from pg_load_helpers import ensure_locale, export, exported_table, row_texts, stage_tables
from pgserver import quote_ident, wait_for

ROWS = 20_000
SOURCE_SQL = f"""
CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric(12,2), ts timestamptz);
INSERT INTO big SELECT g, repeat(md5(g::text), 3), g / 100.0, timestamptz '2020-01-01' + g * interval '1 min'
FROM generate_series(1, {ROWS}) g;
CREATE TABLE hs (id int, h hstore);
INSERT INTO hs VALUES (1, 'a=>1');
CREATE TABLE cash (id int, m money);
INSERT INTO cash VALUES (1, 12.34), (2, -0.01);
"""


@pytest.fixture(scope="module")
def exported(pg, tmp_path_factory):
    db = pg.create_database("lfault")
    db.execute("CREATE EXTENSION hstore", superuser=True)
    db.execute(SOURCE_SQL)
    out = tmp_path_factory.mktemp("lfault") / "export"
    manifest = export(db.dsn, out, ["public.big", "public.hs", "public.cash"])
    source = open_source(db.dsn)
    discovered = {t.name: t for t in source.discover()}
    source.close()
    tables = {}
    for entry in manifest["tables"]:
        tables[entry["name"]] = exported_table(out, entry, discovered[entry["name"]].properties["pg_types"])
    try:
        yield db, tables
    finally:
        db.drop()


@pytest.fixture
def target(pg):
    db = pg.create_database("lfault_t")
    try:
        yield db
    finally:
        db.drop()


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text and text
    return text


def _copy_backend(pg, dbname: str) -> int | None:
    rows = pg.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY %%' AND state = 'active'",
        (dbname,),
    )
    return int(rows[0][0]) if rows else None


def test_terminated_backend_mid_copy_leaves_target_unchanged_and_rerun_has_no_duplicates(pg, exported, target) -> None:
    db, tables = exported
    table, files = tables["big"]
    target.execute("CREATE TABLE big (id bigint, note text); INSERT INTO big VALUES (42, 'old')")
    before = row_texts(target.dsn, "public", "big")
    load = TableLoad(target.dsn, table, job_id="job-t", if_exists="replace")
    load.prepare()
    pf = pq.ParquetFile(files[0])
    part = PartitionLoad(target.dsn, table, schema="public", stage=load.stage, part="p0", data_schema=pf.schema_arrow)
    batches = pf.iter_batches(batch_size=500)
    part.write(next(batches))
    assert wait_for(lambda: _copy_backend(pg, target.name) is not None)
    pg.execute("SELECT pg_terminate_backend(%s)", (_copy_backend(pg, target.name),))
    with pytest.raises(LoadError) as err:
        for batch in batches:
            part.write(batch)
        part.close()
    assert err.value.retryable, _one_line(err.value)
    load.discard()
    assert row_texts(target.dsn, "public", "big") == before
    assert stage_tables(target.dsn) == []
    result = load_table(target.dsn, table, files, job_id="job-t", if_exists="replace", expected_rows=ROWS)
    assert result.rows == ROWS
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")
    assert target.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'big'::regclass") == [("big_pkey",)]


def test_a_part_committed_once_is_never_loaded_twice(exported, target) -> None:
    _db, tables = exported
    table, files = tables["big"]
    load = TableLoad(target.dsn, table, job_id="job-p")
    load.prepare()
    try:
        for _attempt in range(2):
            part = PartitionLoad(target.dsn, table, schema="public", stage=load.stage, part="file-0")
            for batch in pq.ParquetFile(files[0]).iter_batches():
                part.write(batch)
            part.close()
        assert load.done_parts() == {"file-0"}
        assert load.rows_staged() == pq.ParquetFile(files[0]).metadata.num_rows
    finally:
        load.discard()


KILLED = """
import os, signal, sys
sys.path[:0] = {paths!r}
from pg_load_helpers import exported_table
from adu_postgres.loader import TableLoad
import json, pathlib
out = pathlib.Path({out!r})
entry = next(e for e in json.loads((out / "manifest.json").read_text())["tables"] if e["name"] == "big")
table, files = exported_table(out, entry)
TableLoad({dsn!r}, table, job_id="job-k").prepare()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_load_leaves_its_staging_table_to_the_next_run(exported, target) -> None:
    db, tables = exported
    table, files = tables["big"]
    out = Path(files[0]).parents[2]
    tests = Path(__file__).resolve().parent
    script = KILLED.format(paths=[str(tests), str(tests.parent)], out=str(out), dsn=target.dsn)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-1000:]
    left = stage_tables(target.dsn)
    assert len(left) == 2 and left[1] == left[0] + "_parts"
    assert target.execute("SELECT to_regclass('public.big')") == [(None,)]
    load_table(target.dsn, table, files, job_id="job-2")
    assert stage_tables(target.dsn) == []
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")


def test_fail_policy_refuses_an_existing_table_before_any_row_moves(exported, target) -> None:
    _db, tables = exported
    table, files = tables["big"]
    target.execute("CREATE TABLE big (x int); INSERT INTO big VALUES (1)")
    with pytest.raises(LoadError) as err:
        load_table(target.dsn, table, files, job_id="job-f")
    assert "already exists" in _one_line(err.value) and "--if-exists" in str(err.value)
    assert target.execute("SELECT * FROM big") == [(1,)]
    assert stage_tables(target.dsn) == []


def test_append_into_a_narrower_column_fails_and_leaves_the_target_unchanged(exported, target) -> None:
    _db, tables = exported
    table, files = tables["big"]
    target.execute(
        "CREATE TABLE big (id bigint, t varchar(3), n numeric(12,2), ts timestamptz); INSERT INTO big (id) VALUES (0)"
    )
    with pytest.raises(LoadError) as err:
        load_table(target.dsn, table, files, job_id="job-a", if_exists="append")
    assert "value too long for type character varying(3)" in _one_line(err.value)
    assert target.execute("SELECT count(*) FROM big") == [(1,)]
    assert stage_tables(target.dsn) == []


def test_append_and_truncate_keep_the_target_table(exported, target) -> None:
    db, tables = exported
    table, files = tables["big"]
    target.execute(
        "CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric(14,2), ts timestamptz, extra int DEFAULT 7);"
        "INSERT INTO big (id) VALUES (0)"
    )
    oid = target.execute("SELECT 'big'::regclass::oid")
    load_table(target.dsn, table, files, job_id="job-ap", if_exists="append")
    assert target.execute("SELECT count(*), min(extra), max(extra) FROM big") == [(ROWS + 1, 7, 7)]
    load_table(target.dsn, table, files, job_id="job-tr", if_exists="truncate")
    assert target.execute("SELECT count(*), count(DISTINCT id) FROM big") == [(ROWS, ROWS)]
    assert target.execute("SELECT 'big'::regclass::oid") == oid
    same = "SELECT count(*) FROM big WHERE (id, t, n, ts) NOT IN (SELECT id, t, n, ts FROM big) "
    assert target.execute(same) == [(0,)]
    assert row_texts(db.dsn, "public", "big").total() == ROWS


def test_replace_refuses_when_a_view_depends_on_the_table(exported, target) -> None:
    _db, tables = exported
    table, files = tables["big"]
    target.execute("CREATE TABLE big (id bigint); INSERT INTO big VALUES (5); CREATE VIEW v AS SELECT id FROM big")
    with pytest.raises(LoadError) as err:
        load_table(target.dsn, table, files, job_id="job-r", if_exists="replace")
    assert "depend" in _one_line(err.value)
    assert target.execute("SELECT * FROM v") == [(5,)]
    assert stage_tables(target.dsn) == []


def test_a_type_the_target_lacks_is_named_and_nothing_is_created(exported, target) -> None:
    _db, tables = exported
    table, files = tables["hs"]
    with pytest.raises(UsageError) as err:
        load_table(target.dsn, table, files, job_id="job-h")
    assert "hstore" in _one_line(err.value) and "CREATE EXTENSION hstore" in str(err.value)
    assert target.execute("SELECT to_regclass('public.hs')") == [(None,)]
    assert stage_tables(target.dsn) == []


def test_no_privilege_to_create_is_one_line(pg, exported, target) -> None:
    _db, tables = exported
    table, files = tables["big"]
    role = f"noprivs_{os.getpid()}"
    pg.execute(f"DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD %s", (pg.password,))
    try:
        target.execute(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
            f" GRANT CONNECT ON DATABASE {quote_ident(target.name)} TO {role}"
        )
        with pytest.raises(LoadError) as err:
            load_table(pg.url(dbname=target.name, user=role), table, files, job_id="job-x")
        text = _one_line(err.value)
        assert "permission denied" in text and role in text and "CREATE privilege" in text
        assert pg.password not in text
    finally:
        target.drop()
        pg.execute(f"DROP ROLE IF EXISTS {role}")


def test_money_refuses_a_target_whose_lc_monetary_has_another_scale(pg, exported, target) -> None:
    _db, tables = exported
    table, files = tables["cash"]
    locale = ensure_locale(pg, "ja_JP.utf8", "ja_JP")
    target.execute(f"ALTER DATABASE {quote_ident(target.name)} SET lc_monetary = '{locale}'", superuser=True)
    with pytest.raises(LoadError) as err:
        load_table(target.dsn, table, files, job_id="job-m")
    assert "lc_monetary" in _one_line(err.value) and "'m'" in str(err.value)
    assert target.execute("SELECT to_regclass('public.cash')") == [(None,)]


def test_psycopg2_copy_path_loads_the_same_rows(exported, target, monkeypatch) -> None:
    db, tables = exported
    table, files = tables["big"]
    monkeypatch.setenv("ADU_PG_COPY", "psycopg2")
    copyin.libpq_copy_in_functions.cache_clear()
    try:
        assert copyin.libpq_copy_in_functions() is None
        load_table(target.dsn, table, files, job_id="job-y", parallel=2)
    finally:
        copyin.libpq_copy_in_functions.cache_clear()
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")


@pytest.mark.parametrize("direct", [True, False])
def test_a_value_postgresql_cannot_hold_aborts_the_part(target, direct, monkeypatch) -> None:
    if not direct:
        monkeypatch.setenv("ADU_PG_COPY", "psycopg2")
    copyin.libpq_copy_in_functions.cache_clear()
    table = TableInfo(schema="public", name="dates", columns=(ColumnInfo("d", "date", pa.date32()),))
    load = TableLoad(target.dsn, table, job_id="job-d")
    load.prepare()
    try:
        part = PartitionLoad(target.dsn, table, schema="public", stage=load.stage, part="p")
        part.write(pa.record_batch([pa.array([0, 1], pa.date32())], names=["d"]))
        with pytest.raises(LoadError) as err:
            part.write(pa.record_batch([pa.array([-(2**31) + 5], pa.date32())], names=["d"]))
            part.close()
        assert "column 'd'" in _one_line(err.value) and "out of range" in str(err.value)
        assert load.rows_staged() == 0
    finally:
        load.discard()
        copyin.libpq_copy_in_functions.cache_clear()


def test_keys_are_built_with_the_key_workers_setting(pg, tmp_path) -> None:
    """Keys, constraints and indexes are built after the data on the coordinator's session
    with ``max_parallel_maintenance_workers`` = ``key_workers`` (default: the server's own
    setting, PostgreSQL's 2; 0: one backend): a CHECK that reads the setting passes or fails
    accordingly."""
    src = pg.create_database("lkeyw")
    dst = pg.create_database("lkeyw_t")
    try:
        src.execute(
            "CREATE TABLE kw (id int PRIMARY KEY,"
            " CONSTRAINT not_three CHECK (current_setting('max_parallel_maintenance_workers') <> '3'),"
            " CONSTRAINT not_zero CHECK (current_setting('max_parallel_maintenance_workers') <> '0'));"
            "INSERT INTO kw SELECT generate_series(1, 100)"
        )
        out = tmp_path / "export"
        manifest = export(src.dsn, out, ["public.kw"])
        source = open_source(src.dsn)
        pg_types = next(t for t in source.discover() if t.name == "kw").properties["pg_types"]
        source.close()
        table, files = exported_table(out, manifest["tables"][0], pg_types)
        with pytest.raises(LoadError, match="not_three"):
            load_table(dst.dsn, table, files, job_id="kw3", options={"key_workers": 3})
        assert stage_tables(dst.dsn) == [] and not dst.execute("SELECT to_regclass('public.kw')")[0][0]
        with pytest.raises(LoadError, match="not_zero"):
            load_table(dst.dsn, table, files, job_id="kw0", options={"key_workers": 0})
        assert dst.execute("SHOW max_parallel_maintenance_workers") == [("2",)]  # the server's own
        assert load_table(dst.dsn, table, files, job_id="kwd").rows == 100  # the default: left as it is
        assert dst.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'kw'::regclass AND indisprimary") == [(1,)]
    finally:
        src.drop()
        dst.drop()
