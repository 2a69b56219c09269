"""Redaction end to end: a failing job whose source URL carries a password, run through
the CLI (with a process pool), through the web API (gunicorn, `adu serve`) and a separate
`adu worker` (with a process pool); then every file under the data directory (store,
logs), every file of the exports, and everything the processes printed (gunicorn's log
included) is searched for the password: plain, URL-encoded and base64."""

from __future__ import annotations

import base64
import json
import signal
import socket
import urllib.request
from urllib.parse import quote

import pytest
from adu_core.models import JobStatus
from faultkit import adu, base_env, open_store, spawn, stop, wait_status
from pgserver import quote_ident, wait_for

PASSWORD = "Red@cted:Pw/+=?&Q7z-issue14"
USER = "leaky_exporter"


@pytest.fixture
def leaky_role(pg, source_db):
    """A role with that password that may read many.t00 but not many.t01 (a failing job)."""
    pg.execute(f"CREATE ROLE {USER} LOGIN PASSWORD %s", (PASSWORD,))
    source_db.execute(f"GRANT USAGE ON SCHEMA many TO {USER}; GRANT SELECT ON many.t00 TO {USER}", superuser=True)
    try:
        yield f"postgresql://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{pg.port}/{source_db.name}"
    finally:
        source_db.execute(
            f"REVOKE ALL ON many.t00 FROM {USER}; REVOKE USAGE ON SCHEMA many FROM {USER}", superuser=True
        )
        pg.execute(f"DROP ROLE {quote_ident(USER)}")


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return sorted(
        {
            secret,
            quote(secret, safe=""),
            quote(secret),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
        }
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(base: str, path: str, body: dict | None = None) -> dict:
    auth = base64.b64encode(b"op:op-password-123").decode()
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_a_password_in_a_failing_jobs_url_is_nowhere(pg, source_db, leaky_role, tmp_path):
    data = tmp_path / "data"
    exports = tmp_path / "exports"
    exports.mkdir()
    env = base_env(data, ADU_EXECUTOR="process", ADU_EXPORT_ROOT=str(exports), ADU_LOG_STDOUT="1")
    printed: list[str] = []

    # 1. the CLI, partitions in a process pool
    res = adu(env, "export", leaky_role, "--out", str(exports / "cli"), "--table", "many.t00", "--table", "many.t01")
    printed += [res.stdout, res.stderr]
    assert res.returncode == 1 and "permission denied" in res.stdout, res.stdout + res.stderr

    # 2. the web API (gunicorn) and a separate worker with a process pool
    res = adu(env, "users", "add", "op", "--role", "operator", "--password-stdin", stdin="op-password-123\n")
    assert res.returncode == 0, res.stderr
    port = _free_port()
    serve = spawn(env, "serve", "--port", str(port), "--workers", "0", log=tmp_path / "serve.out")
    worker = spawn(env, "worker", log=tmp_path / "worker.out")
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _ready(base), timeout=120), (tmp_path / "serve.out").read_text()
        job = _api(
            base,
            "/api/jobs",
            {
                "source": leaky_role,
                "target": str(exports / "web"),
                "selection": {"tables": ["many.t00", "many.t01"]},
                "parallel": 2,
            },
        )
        store = open_store(env)
        done = wait_status(store, job["id"], JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.SUCCEEDED)
        assert done.status == JobStatus.PARTIAL
        printed.append(json.dumps(_api(base, f"/api/jobs/{job['id']}")))
    finally:
        stop(serve, signal.SIGTERM)
        stop(worker, signal.SIGTERM)
    printed += [(tmp_path / "serve.out").read_text(), (tmp_path / "worker.out").read_text()]
    assert "POST /api/jobs" in printed[-2]  # gunicorn's access log is in there

    # the jobs failed where expected, and their logs say so (the search below is not vacuous)
    job_logs = list((data / "logs" / "jobs").glob("*.jsonl"))
    assert len(job_logs) == 2 and all("permission denied" in p.read_text() for p in job_logs)
    files = [p for root in (data, exports) for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "adu.db" for p in files) and any(p.name == "manifest.json" for p in files)
    for form in _forms(PASSWORD):
        for text in printed:
            assert form not in text, f"{form!r} printed"
        for path in files:
            assert form.encode() not in path.read_bytes(), f"{form!r} in {path}"


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False
