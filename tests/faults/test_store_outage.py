"""Issue 14, case 4: the job store (on PostgreSQL) goes away while workers run.

The outage is real: the store's database refuses connections (``ALLOW_CONNECTIONS
false``) and every session in it is terminated. Idle and busy workers survive it — one
warning when it starts, one when it ends, no traceback — the busy job goes on in staging
and completes, and a job that outlives ``ADU_STORE_OUTAGE_SECONDS`` without the store
stops cleanly, is taken back when the store answers again, and is completed.
"""

from __future__ import annotations

import signal
from pathlib import Path

from adu_core.models import JobSpec, JobStatus, TableSelection
from faultkit import (
    assert_exact,
    base_env,
    braked,
    logged,
    open_store,
    outage,
    spawn,
    stop,
    store_url,
    succeeded_tables,
    wait_status,
)
from pgserver import wait_for


def _spec(source_db, out: Path) -> JobSpec:
    return JobSpec(
        source=source_db.dsn,
        target=str(out),
        selection=TableSelection(schemas=("many",), tables=("public.orders",)),
        source_options={"include_views": True},
        sink_options={"row_group_size": 1000},
        parallel=2,
    )


def _worker(tmp_path: Path, name: str, store_url: str, **extra: str):
    data = tmp_path / name
    env = base_env(data, store_url=store_url, **extra)
    return data, env, spawn(env, "worker", log=tmp_path / f"{name}.out")


def _parked(store, job_id, out) -> bool:
    return succeeded_tables(store, job_id) == 24 and any((out / ".adu-staging").rglob("*.parquet"))


def test_idle_and_busy_workers_survive_an_outage_and_the_busy_job_completes(pg, source_db, store_db, tmp_path):
    url = store_url(store_db)
    # a lease longer than the outage: the busy worker keeps its job
    busy_dir, env, busy = _worker(tmp_path, "busy", url, ADU_STALE_SECONDS="60")
    store = open_store(env)
    out = tmp_path / "out"
    job_id = store.create_job(_spec(source_db, out), password=pg.password)
    idle_dir = None
    try:
        with braked(source_db.dsn) as brake:
            assert wait_for(lambda: _parked(store, job_id, out), timeout=120)
            idle_dir, _env, idle = _worker(tmp_path, "idle", url, ADU_STALE_SECONDS="60")
            assert wait_for(lambda: "waiting for jobs" in (tmp_path / "idle.out").read_text(), timeout=60)
            with outage(pg, store_db):
                # both workers went past the store's own retries (ADU_STORE_RETRY_SECONDS=1):
                # the busy job goes on, the idle worker waits for the store
                assert wait_for(lambda: logged(busy_dir, "partitions go on into staging"), timeout=60)
                assert wait_for(lambda: logged(idle_dir, "waiting for the job store"), timeout=60)
                brake.release()  # the last table completes while the store is away or just back
            job = wait_status(store, job_id, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.attempt == 1  # the same run finished it
        assert_exact(source_db, out, env)

        # the idle worker still takes new jobs
        out2 = tmp_path / "out2"
        second = store.create_job(_spec(source_db, out2), password=pg.password)
        job = wait_status(store, second, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
        assert job.status == JobStatus.SUCCEEDED, job.error
    finally:
        stop(busy, signal.SIGTERM)
        if idle_dir is not None:
            stop(idle, signal.SIGTERM)
    for name, data, proc in (("busy", busy_dir, busy), ("idle", idle_dir, idle)):
        output = (tmp_path / f"{name}.out").read_text()
        assert proc.returncode == 0, output
        assert "Traceback" not in output, output
        # once when it started, once when it ended: not at every call
        assert len(logged(data, "is unreachable (")) == 1, logged(data, "unreachable")
        back = logged(data, "answers again after")
        assert len(back) == 1 and float(back[0]["message"].split("after ")[1].split(" s")[0]) >= 1.0


def test_a_job_without_its_store_too_long_stops_cleanly_and_is_completed_after(pg, source_db, store_db, tmp_path):
    url = store_url(store_db)
    data, env, worker = _worker(tmp_path, "worker", url, ADU_STORE_OUTAGE_SECONDS="2")
    store = open_store(env)
    out = tmp_path / "out"
    job_id = store.create_job(_spec(source_db, out), password=pg.password)
    try:
        with braked(source_db.dsn):
            assert wait_for(lambda: _parked(store, job_id, out), timeout=120)
            with outage(pg, store_db):
                assert wait_for(lambda: logged(data, "the job store was unreachable for 2 s"), timeout=60)
                # stopped cleanly: nothing of the stopped run is left in staging
                assert not any((out / ".adu-staging").rglob("*.parquet"))
                assert worker.poll() is None
            # the store is back: the job's lease has expired, the worker takes it back and
            # runs it again (the brake holds it until released)
            assert wait_for(lambda: store.get_job(job_id).attempt == 2, timeout=60)
        job = wait_status(store, job_id, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
    finally:
        stop(worker, signal.SIGTERM)
    output = (tmp_path / "worker.out").read_text()
    assert worker.returncode == 0 and "Traceback" not in output, output
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert any("queued again" in e.message for e in store.list_events(job_id))
    assert_exact(source_db, out, env)
