"""Issue 14, cases 5 and 6, and issue 13's "a validator that raises anything fails its
job, never the worker": signals are never turned into table errors, pool processes die
with their parent, and whatever a plugin raises stays a failure of its table.
"""

from __future__ import annotations

import signal

from adu_core.models import JobSpec, JobStatus, TableSelection
from faultkit import (
    adu,
    alive,
    assert_exact,
    base_env,
    braked,
    descendants,
    open_store,
    plugin_env,
    spawn,
    stop,
    succeeded_tables,
    wait_status,
)
from pgserver import wait_for

EXPORT = ["--table", "public.orders", "--schema", "many", "--views", "--sink-option", "row_group_size=1000"]


def _readers(pg, db) -> int:
    rows = pg.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'adu%%'", (db.name,)
    )
    return int(rows[0][0])


def test_a_killed_export_takes_its_process_pool_with_it(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data", ADU_EXECUTOR="process")
    out = tmp_path / "out"
    with braked(source_db.dsn):
        proc = spawn(env, "export", source_db.dsn, "--out", str(out), *EXPORT)
        assert wait_for(lambda: (tmp_path / "data" / "adu.db").exists(), timeout=60)
        store = open_store(env)
        assert wait_for(
            lambda: (
                store.list_jobs()
                and succeeded_tables(store, store.list_jobs()[0].id) == 24
                and any((out / ".adu-staging").rglob("*.parquet"))
            ),
            timeout=120,
        )
        pool = descendants(proc.pid)
        assert len(alive(pool)) >= 2, "no process pool"  # ADU_EXECUTOR=process, 2 partitions at once
        stop(proc, signal.SIGKILL)
        assert wait_for(lambda: not alive(pool), timeout=30), f"pool processes outlived their parent: {alive(pool)}"
    # the brake is released: the backend that waited on it finds its client gone and ends
    assert wait_for(lambda: _readers(pg, source_db) == 0, timeout=30), "source connections are still held"


def test_sigterm_while_duckdb_validates_a_table_stops_the_export(pg, source_db, tmp_path):
    marker = tmp_path / "duckdb-running"
    env = plugin_env(tmp_path, base_env(tmp_path / "data"), "slow-duckdb", ADU_FAULT_MARKER=str(marker))
    out = tmp_path / "out"
    proc = spawn(env, "export", source_db.dsn, "--out", str(out), "--table", "many.t00")
    assert wait_for(marker.exists, timeout=120), "the validator's DuckDB query never started"
    _stdout, stderr = stop(proc, signal.SIGTERM)
    # not "Query interrupted" recorded as the table's error, the export going on, a manifest
    # and exit 1: the job stops as SIGTERM asks
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "adu: error: terminated (SIGTERM)", stderr
    assert not (out / "manifest.json").exists()
    assert marker.read_text() == "duckdb raised RuntimeError: Query interrupted"  # what DuckDB made of it
    store = open_store(env)
    (job,) = store.list_jobs()
    assert job.status == JobStatus.CANCELLED
    (table,) = store.list_tables(job.id)
    assert table.status.value != "failed" and "interrupted" not in str(table.error or "").lower()


def test_a_validator_that_raises_anything_fails_its_table_never_the_worker(pg, source_db, tmp_path):
    env = plugin_env(tmp_path, base_env(tmp_path / "data"), "per-table")
    store = open_store(env)
    tables = ("many.t00", "many.t01", "many.t02", "many.t03")
    first = store.create_job(
        JobSpec(source=source_db.dsn, target=str(tmp_path / "out1"), selection=TableSelection(tables=tables)),
        password=pg.password,
    )
    worker = spawn(env, "worker", log=tmp_path / "worker.out")
    try:
        job = wait_status(store, first, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.SUCCEEDED)
        assert job.status == JobStatus.PARTIAL
        found = {t.name: t for t in store.list_tables(first)}
        assert found["t00"].error["kind"] == "SystemExit"  # in a worker thread, per batch
        assert found["t01"].error["kind"] == "SystemExit"  # in the coordinator, table-wide
        assert found["t02"].error["kind"] == "KeyboardInterrupt"  # raised, not a signal
        assert found["t03"].status.value == "succeeded"
        # the worker lives on: it runs the next job
        out2 = tmp_path / "out2"
        second = store.create_job(
            JobSpec(source=source_db.dsn, target=str(out2), selection=TableSelection(tables=("many.t05",))),
            password=pg.password,
        )
        job = wait_status(store, second, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert worker.poll() is None
    finally:
        stop(worker, signal.SIGTERM)
    output = (tmp_path / "worker.out").read_text()
    assert worker.returncode == 0 and "Traceback" not in output, output
    assert_exact(source_db, out2, env, expect=["many.t05"])
    # the partial export verifies as partial (its failed tables listed), and a retry without
    # the faulty validator completes it
    assert adu(env, "verify", str(tmp_path / "out1")).returncode == 1
    res = adu(base_env(tmp_path / "data"), "jobs", "retry", first, "--password-stdin", stdin=pg.password + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    assert_exact(source_db, tmp_path / "out1", env, expect=list(tables))
