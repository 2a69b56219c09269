"""Issue 14, case 3: the signing key disappears mid-job, so the manifest cannot be written.

The job is recorded failed with the reason, the CLI prints it, and `adu jobs retry` (once
the key is back) writes the manifest for the tables already published: no table is
exported again, and `adu verify --public-key` passes. `--overwrite` exports it all again.
"""

from __future__ import annotations

import json
import shutil

from adu_core.models import JobStatus
from faultkit import adu, assert_exact, base_env, braked, open_store, spawn, stop, succeeded_tables
from pgserver import wait_for


def test_a_manifest_that_cannot_be_written_fails_the_job_with_its_reason_and_a_retry_writes_it(pg, source_db, tmp_path):
    env = base_env(tmp_path / "data")
    out = tmp_path / "out"
    keys = tmp_path / "keys"
    keys.mkdir()
    assert adu(env, "keys", "generate", "--out", str(keys / "adu")).returncode == 0
    key, kept = keys / "adu.key", tmp_path / "adu.key.kept"
    with braked(source_db.dsn) as brake:
        proc = spawn(
            env,
            "export",
            source_db.dsn,
            "--out",
            str(out),
            "--table",
            "public.orders",
            "--schema",
            "many",
            "--views",
            "--sign-key",
            str(key),
        )
        assert wait_for(lambda: (tmp_path / "data" / "adu.db").exists(), timeout=60)
        store = open_store(env)
        assert wait_for(lambda: store.list_jobs() and succeeded_tables(store, store.list_jobs()[0].id) == 24, 120)
        job_id = store.list_jobs()[0].id
        shutil.move(key, kept)  # the key disappears while the job runs
        brake.release()
        stdout, stderr = stop(proc, None, timeout=120)
    assert proc.returncode == 1, stdout + stderr
    assert "reason: the manifest could not be written" in stderr, stderr
    assert f"`adu jobs retry {job_id}`" in stderr
    assert "Traceback" not in stderr
    job = store.get_job(job_id)
    assert job.status == JobStatus.FAILED and job.tables_done == 25
    assert "manifest" in job.error["message"] and not (out / "manifest.json").exists()

    # without the key the retry says why, in one line
    res = adu(env, "jobs", "retry", job_id)
    assert res.returncode == 2, res.stdout + res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "adu.key" in res.stderr

    shutil.move(kept, key)
    res = adu(env, "jobs", "retry", job_id)  # no password needed: no table is read again
    assert res.returncode == 0, res.stdout + res.stderr
    assert "retrying the manifest" in res.stdout
    assert store.get_job(job_id).status == JobStatus.SUCCEEDED
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["tables"] == 25 and [r["job_id"] for r in manifest["runs"]] == [job_id, job_id]
    res = adu(env, "verify", str(out), "--public-key", str(keys / "adu.pub"))
    assert res.returncode == 0, res.stdout
    assert_exact(source_db, out, env)

    # --overwrite: every table again, from a new snapshot
    res = adu(env, "jobs", "retry", job_id, "--overwrite", "--password-stdin", stdin=pg.password + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "retrying all tables" in res.stdout
    assert adu(env, "verify", str(out), "--public-key", str(keys / "adu.pub")).returncode == 0
    assert_exact(source_db, out, env)
