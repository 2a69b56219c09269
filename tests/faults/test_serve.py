"""Issue 14, cases 2 and 4 for `adu serve`, and `adu export --queue`.

`adu serve` with its embedded worker and the job store on PostgreSQL: while the store is
away `/readyz` says so (503) and the embedded worker waits for it; when it is back the
worker runs new jobs. SIGTERM during a job longer than the grace period puts the job back
in the queue (it is not killed mid-table and left `running`), serve exits 0, and the next
run completes the export: `adu verify` passes, the rows equal the source's.
"""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request

from adu_core.models import JobStatus
from faultkit import (
    adu,
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

EXPORT = ["--table", "public.orders", "--schema", "many", "--views", "--sink-option", "row_group_size=1000"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def test_serve_survives_an_outage_and_requeues_a_long_job_on_sigterm(pg, source_db, store_db, tmp_path):
    env = base_env(tmp_path / "serve", store_url=store_url(store_db), ADU_STALE_SECONDS="60")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    serve = spawn(env, "serve", "--port", str(port), "--workers", "1", log=tmp_path / "serve.out")
    store = open_store(env)
    try:
        assert wait_for(lambda: _get(base + "/readyz")[0] == 200, timeout=120), (tmp_path / "serve.out").read_text()
        assert _get(base + "/readyz")[1] == {"status": "ok", "store": "ok", "workers": 1}
        with outage(pg, store_db):
            assert wait_for(lambda: _get(base + "/readyz") == (503, {"status": "unavailable", "store": "unreachable"}))
            assert wait_for(lambda: logged(tmp_path / "serve", "waiting for the job store"), timeout=60)
            assert _get(base + "/healthz") == (200, {"status": "ok"})  # the process and its worker live
        assert wait_for(lambda: _get(base + "/readyz")[0] == 200, timeout=60)

        # a job queued after the outage runs on the embedded worker; SIGTERM arrives while
        # it waits on the brake, longer than the grace period (1 s)
        out = tmp_path / "out"
        with braked(source_db.dsn):
            res = adu(env, "export", source_db.dsn, "--out", str(out), *EXPORT, "--queue")
            assert res.returncode == 0, res.stderr
            job_id = res.stdout.strip()
            assert f"`adu jobs show {job_id}` follows it" in res.stderr
            assert wait_for(
                lambda: succeeded_tables(store, job_id) == 24 and any((out / ".adu-staging").rglob("*.parquet")), 120
            )
            shown = adu(env, "jobs", "show", job_id)
            assert shown.returncode == 0 and f"job {job_id}  running" in shown.stdout
            _out, _err = stop(serve, signal.SIGTERM, timeout=120)
        output = (tmp_path / "serve.out").read_text()
        assert serve.returncode == 0, output
        assert "Traceback" not in output, output
    finally:
        stop(serve, signal.SIGKILL)
    job = store.get_job(job_id)
    assert job.status == JobStatus.QUEUED and job.spec.retry and job.spec.retry_tables == ("public.orders",)
    assert not any((out / ".adu-staging").rglob("*.parquet"))
    assert not (out / "manifest.json").exists()

    res = adu(env, "worker", "--once", timeout=240)
    assert res.returncode == 0, res.stderr
    job = wait_status(store, job_id, JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert_exact(source_db, out, env)
