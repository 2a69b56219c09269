"""The PostgreSQL source driven by the real engine: threads or a process pool, Parquet sink, manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.engine import submit_and_run
from adu_core.models import JobSpec, JobStatus, TableSelection, TableStatus


def _export(store, url: str, password: str, out: Path, tables: tuple[str, ...], executor: str = "auto", **kw) -> object:
    spec = JobSpec(
        source=url,
        target=str(out),
        selection=TableSelection(tables=tables),
        parallel=2,
        validate=False,
        **kw,
    )
    return submit_and_run(store, spec, password=password, mp_start="forkserver", executor=executor)


def _read(out: Path, schema: str, name: str) -> pa.Table:
    files = sorted((out / schema / name).glob("*.parquet"))
    assert files, f"no files for {schema}.{name}"
    return pa.concat_tables(pq.read_table(f) for f in files)


@pytest.mark.parametrize("executor", ["auto", "process"])
def test_engine_exports_zoo_and_partitioned_table(pg, zoo_db, adu_store, adu_settings, tmp_path, executor) -> None:
    zoo_db.execute(
        "DROP TABLE IF EXISTS events;"  # zoo_db is shared with the other parametrization
        "CREATE TABLE events (id int, region text) PARTITION BY LIST (region);"
        "CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');"
        "CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');"
        "INSERT INTO events SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 5000) g"
    )
    out = tmp_path / "export"
    result = _export(
        adu_store,
        zoo_db.dsn,
        pg.password,
        out,
        ("public.zoo", "public.zoo_inf", "public.events"),
        source_options={"infinity": "null"},
        executor=executor,
    )
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    zoo = _read(out, "public", "zoo").sort_by("id")
    assert zoo.num_rows == 3
    assert zoo.schema.field("iv").type.num_fields == 3
    assert zoo.column("n_free").to_pylist() == ["NaN", "Infinity", None]
    assert zoo.column("a2").to_pylist()[0] == "{{1,2},{3,4}}"
    assert zoo.schema.field("o").type == pa.uint32()
    assert zoo.schema.field("n_typed").metadata[b"adu.source_type"] == b"numeric(12,2)"
    events = _read(out, "public", "events")
    assert sorted(events.column("id").to_pylist()) == list(range(1, 5001))  # leaves once each
    manifest = json.loads((out / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert pg.password not in text
    consistency = manifest["source"]["consistency"]
    assert consistency["snapshot"] and consistency["lsn"]
    # auto: the C decoder reads outside the GIL, so partitions run as threads
    log_text = adu_settings.job_log_path(result.job_id).read_text()
    assert ("in threads" if executor == "auto" else "in a process pool") in log_text


def test_one_failing_table_does_not_stop_the_others(pg, zoo_db, adu_store, tmp_path) -> None:
    out = tmp_path / "export"
    # zoo_inf holds ±infinity: with the policy error that table fails, loudly
    result = _export(
        adu_store,
        zoo_db.dsn,
        pg.password,
        out,
        ("public.zoo", "public.zoo_inf"),
        source_options={"infinity": "error"},
    )
    by_name = {t.qualified_name: t for t in result.tables}
    assert result.status == JobStatus.PARTIAL
    assert by_name["public.zoo"].status == TableStatus.SUCCEEDED
    failed = by_name["public.zoo_inf"]
    assert failed.status == TableStatus.FAILED
    assert "infinity" in failed.error.message and "'d'" in failed.error.message
    assert pg.password not in failed.error.message
    assert pg.password not in (failed.error.traceback or "")


def test_terminated_backend_is_retried_without_duplicates(pg, pg_db, adu_store, tmp_path, monkeypatch) -> None:
    import threading

    from adu_core import config as config_mod
    from pgserver import wait_for

    rows = 400_000
    pg_db.execute(f"CREATE TABLE t AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, {rows}) g")
    monkeypatch.setenv("ADU_BATCH_ROWS", "500")
    settings = config_mod.load()
    out = tmp_path / "export"
    spec = JobSpec(source=pg_db.dsn, target=str(out), selection=TableSelection(tables=("public.t",)),
                   parallel=1, validate=False)  # fmt: skip
    result: list = []
    job = threading.Thread(
        target=lambda: result.append(
            submit_and_run(adu_store, spec, password=pg.password, settings=settings, executor="thread")
        )
    )
    job.start()
    kill = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND query LIKE 'COPY%%' AND state = 'active'"
    )
    killed: list = []
    with pg.connect(pg.superuser_dsn) as conn, conn.cursor() as cur:

        def try_kill() -> bool:
            cur.execute(kill, (pg_db.name,))
            killed.extend(cur.fetchall())
            return bool(killed)

        assert wait_for(try_kill, timeout=30, interval=0.001)
    job.join(120)
    assert killed == [(True,)]  # the COPY was really cut mid-way
    (res,) = result
    assert res.status == JobStatus.SUCCEEDED, [t.error for t in res.tables]
    ids = _read(out, "public", "t").column("id").to_pylist()
    assert len(ids) == len(set(ids)) == rows


def test_values_without_a_parquet_type_fall_back_to_text(pg, zoo_db, adu_store, tmp_path) -> None:
    """±infinity is DuckDB's extreme value; NaN in numeric(p,s) and a year past 294246
    make the column exact text for that table (manifest, WARNING event), never a failure."""
    import duckdb

    zoo_db.execute(
        "DROP TABLE IF EXISTS nan_part, nocols;"
        "CREATE TABLE nan_part (id int, v numeric(8,3), w numeric(8,3)) PARTITION BY RANGE (id);"
        "CREATE TABLE nan_part_a PARTITION OF nan_part FOR VALUES FROM (0) TO (10);"
        "CREATE TABLE nan_part_b PARTITION OF nan_part FOR VALUES FROM (10) TO (20);"
        "INSERT INTO nan_part VALUES (1, 1.5, 2), (11, 'NaN', 3);"
        "CREATE TABLE nocols (); INSERT INTO nocols DEFAULT VALUES;"
    )
    out = tmp_path / "export"
    result = _export(adu_store, zoo_db.dsn, pg.password, out, ("public.zoo_inf", "public.nan_part", "public.nocols"))
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    manifest = json.loads((out / "manifest.json").read_text())
    tables = {t["name"]: t for t in manifest["tables"]}
    cols = {c["name"]: c for c in tables["nan_part"]["columns"]}
    assert cols["v"]["fallback"] == "text" and cols["v"]["arrow_type"] == "string"
    assert "fallback" not in cols["w"]
    assert _read(out, "public", "nan_part").sort_by("id").column("v").to_pylist() == ["1.500", "NaN"]
    inf_cols = {c["name"]: c for c in tables["zoo_inf"]["columns"]}
    assert inf_cols["ts"]["fallback"] == "text" and "fallback" not in inf_cols["tstz"]
    assert tables["nocols"]["rows"] == 1
    assert [c.get("placeholder") for c in tables["nocols"]["columns"]] == [True]
    events = adu_store.list_events(result.job_id)
    warned = [e for e in events if e.level == "WARNING" and "exact text" in e.message]
    assert {e.table for e in warned} == {"public.zoo_inf", "public.nan_part"}
    con = duckdb.connect()
    files = [str(f) for f in sorted((out / "public" / "zoo_inf").glob("*.parquet"))]
    rows = con.execute("SELECT id, d::text, tstz::text FROM read_parquet(?) ORDER BY id", [files]).fetchall()
    assert rows[:2] == [(1, "infinity", "infinity"), (2, "-infinity", "-infinity")]
    nocols = [str(f) for f in sorted((out / "public" / "nocols").glob("*.parquet"))]
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [nocols]).fetchone() == (1,)
