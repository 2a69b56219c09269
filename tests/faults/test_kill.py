"""Issue 14, cases 1 and 2: a killed `adu export` or `adu worker`, a worker stopped while
its job runs longer than the grace period — and the retry that completes the export.

Each test parks the job on the brake (public.orders) after the other tables succeeded,
kills or stops the process at that point (reached by waiting on the store), and ends with
`adu verify` passing and every table holding exactly the source's rows.
"""

from __future__ import annotations

import json
import signal

from adu_core.models import JobSpec, JobStatus, TableSelection
from faultkit import (
    adu,
    assert_exact,
    base_env,
    braked,
    open_store,
    spawn,
    stop,
    succeeded_tables,
    wait_job,
    wait_status,
)
from pgserver import wait_for

EXPORT = ["--table", "public.orders", "--schema", "many", "--views", "--sink-option", "row_group_size=1000"]


def _parked(store, job_id, out) -> bool:
    """The job published several tables and staged part of public.orders, which waits."""
    return succeeded_tables(store, job_id) >= 5 and any((out / ".adu-staging").rglob("*.parquet"))


def _show(env, job_id) -> dict:
    res = adu(env, "jobs", "show", job_id, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["job"]


def test_a_killed_export_is_taken_back_and_its_retry_completes_the_export(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data")
    out = tmp_path / "out"
    with braked(source_db.dsn):
        proc = spawn(env, "export", source_db.dsn, "--out", str(out), *EXPORT)
        assert wait_for(lambda: (tmp_path / "data" / "adu.db").exists(), timeout=60)
        store = open_store(env)
        assert wait_for(lambda: store.list_jobs() and _parked(store, store.list_jobs()[0].id, out), timeout=120)
        job_id = store.list_jobs()[0].id
        stop(proc, signal.SIGKILL)
        assert any((out / ".adu-staging").rglob("*.parquet")), "the killed attempt staged nothing"
        assert not (out / "manifest.json").exists()

        # any ADU process that opens the store reaps the expired lease: here `adu jobs show`
        assert wait_for(lambda: _show(env, job_id)["status"] == "stale", timeout=60)
        job = store.get_job(job_id)
        assert f"`adu jobs retry {job_id}` completes the export" in job.error["message"]
        assert "killed or crashed" in job.error["message"]
        assert not (out / ".adu-staging").exists(), "the reaper left the dead attempt's staging"

        # a stale job can be cancelled, and a cancelled one retried
        res = adu(env, "jobs", "cancel", job_id)
        assert res.returncode == 0, res.stderr
        assert store.get_job(job_id).status == JobStatus.CANCELLED

    published = [t for t in store.list_tables(job_id) if t.status.value == "succeeded"]
    assert len(published) >= 5
    res = adu(env, "jobs", "retry", job_id, "--password-stdin", stdin=pg.password + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    # only what the killed attempt had not published is exported again
    assert f"job {job_id} succeeded: {25 - len(published)} table(s)" in res.stdout, res.stdout
    job = store.get_job(job_id)
    assert job.status == JobStatus.SUCCEEDED and job.tables_done == 25
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["tables"] == 25  # the killed attempt's tables and the retried ones
    assert_exact(source_db, out, env)


def _queue(store, source_db, pg, out) -> str:
    spec = JobSpec(
        source=source_db.dsn,
        target=str(out),
        selection=TableSelection(schemas=("many",), tables=("public.orders",)),
        source_options={"include_views": True},
        sink_options={"row_group_size": 1000},
        parallel=2,
    )
    return store.create_job(spec, password=pg.password, created_by="test")


def test_a_killed_workers_job_is_requeued_and_completed_by_another_worker(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data")
    out = tmp_path / "out"
    store = open_store(env)
    job_id = _queue(store, source_db, pg, out)
    with braked(source_db.dsn):
        first = spawn(env, "worker")
        try:
            assert wait_for(lambda: _parked(store, job_id, out), timeout=120)
        finally:
            stop(first, signal.SIGKILL)
        # no other worker runs: `adu jobs list` (any process opening the store) requeues it
        assert wait_for(lambda: adu(env, "jobs", "list") and store.get_job(job_id).status == JobStatus.QUEUED, 60)
        assert not (out / ".adu-staging").exists(), "the reaper left the dead attempt's staging"
        events = [e.message for e in store.list_events(job_id)]
        assert any("stopped answering" in m and "queued again" in m for m in events), events
        second = spawn(env, "worker")
        wait_job(store, job_id, lambda j: j.status == JobStatus.RUNNING and j.attempt == 2, what="its run 2")
    try:
        job = wait_status(store, job_id, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
    finally:
        _out, err = stop(second, signal.SIGTERM)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.attempt, job.requeues) == (2, 1)
    assert second.returncode == 0 and "Traceback" not in err, err
    assert_exact(source_db, out, env)


def test_a_worker_stopped_during_a_long_job_requeues_it_and_the_next_run_completes_it(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data", ADU_SHUTDOWN_SECONDS="1")
    out = tmp_path / "out"
    store = open_store(env)
    job_id = _queue(store, source_db, pg, out)
    with braked(source_db.dsn):
        worker = spawn(env, "worker")
        try:
            assert wait_for(lambda: _parked(store, job_id, out), timeout=120)
        finally:
            _out, err = stop(worker, signal.SIGTERM)  # the job cannot finish in 1 s: braked
        assert worker.returncode == 0, err
        assert "Traceback" not in err, err
        job = store.get_job(job_id)
        assert job.status == JobStatus.QUEUED and job.worker_id is None
        assert job.spec.retry and "public.orders" in job.spec.retry_tables
        assert any("shut down" in e.message for e in store.list_events(job_id))
        assert not any((out / ".adu-staging").rglob("*.parquet")), "the stopped run left staged files"
    worker = spawn(env, "worker", "--once")
    _out, err = stop(worker, None, timeout=120)  # --once: runs the job, then exits
    assert worker.returncode == 0, err
    job = store.get_job(job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert_exact(source_db, out, env)
