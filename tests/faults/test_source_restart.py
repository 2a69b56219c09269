"""Issue 14, case 7: the source loses the job's snapshot mid-export.

A restart of PostgreSQL ends every session of the export, the one that exported the
snapshot included; the reader's retry then cannot import the snapshot ("invalid snapshot
identifier"). The test ends exactly ADU's sessions, as a restart does (the server itself
stays up, so the retries' timing does not depend on how fast it restarts). The job says
what happened in words and names `adu jobs retry`, which completes the export from a new
snapshot.
"""

from __future__ import annotations

from adu_core.models import JobStatus
from faultkit import adu, assert_exact, base_env, braked, open_store, spawn, stop, succeeded_tables
from pgserver import wait_for

EXPORT = ["--table", "public.orders", "--schema", "many", "--views", "--sink-option", "row_group_size=1000"]


def test_a_lost_snapshot_is_explained_and_a_retry_completes_the_export(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data")
    out = tmp_path / "out"
    with braked(source_db.dsn) as brake:
        proc = spawn(env, "export", source_db.dsn, "--out", str(out), *EXPORT)
        assert wait_for(lambda: (tmp_path / "data" / "adu.db").exists(), timeout=60)
        store = open_store(env)
        assert wait_for(lambda: store.list_jobs() and succeeded_tables(store, store.list_jobs()[0].id) == 24, 120)
        job_id = store.list_jobs()[0].id
        ended = pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name LIKE 'adu%%'",
            (source_db.name,),
        )
        assert len(ended) >= 2  # the snapshot's session and the reader waiting on the brake
        brake.release()
        stdout, stderr = stop(proc, None, timeout=120)
    assert proc.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr
    job = store.get_job(job_id)
    assert job.status == JobStatus.PARTIAL
    (orders,) = [t for t in store.list_tables(job_id) if t.name == "orders"]
    message = orders.error["message"]
    assert "invalid snapshot identifier" not in message
    assert "the snapshot this job reads from is gone" in message and "restarted" in message
    assert "`adu jobs retry`" in message
    assert f"next: `adu jobs retry {job_id}`" in stderr
    assert "the snapshot this job reads from is gone" in stdout

    res = adu(env, "jobs", "retry", job_id, "--password-stdin", stdin=pg.password + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "retrying public.orders" in res.stdout
    assert_exact(source_db, out, env)
