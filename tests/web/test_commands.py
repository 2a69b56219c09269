"""``adu users``, ``adu serve`` and ``adu worker`` as a user runs them."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from adu_cli.main import cli
from adu_core import config
from adu_core.models import JobSpec
from adu_core.store import Store
from click.testing import CliRunner
from pgserver import wait_for

ADU = str(Path(sys.executable).with_name("adu"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ADU_DATA_DIR": str(tmp_path / "data"), "ADU_ENV": "development", "ADU_LOG_LEVEL": "INFO"}


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_users_commands(env: dict[str, str]) -> None:
    assert _run(env, "users", "list")[1].startswith("no accounts")
    code, out = _run(env, "users", "add", "root", "--role", "admin", "--password-stdin", stdin="root-password-1\n")
    assert code == 0 and "root added (admin)" in out
    assert _run(env, "users", "add", "ann", "--role", "viewer", "--password-stdin", stdin="ann-password-1\n")[0] == 0
    code, out = _run(env, "users", "add", "bad", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least 8 characters" in out
    code, out = _run(env, "users", "add", "x", "--role", "king", "--password-stdin", stdin="long-enough-1\n")
    assert code == 2
    code, out = _run(env, "users", "list")
    assert "root" in out and "admin" in out and "ann" in out and "root-password-1" not in out
    rows = json.loads(_run(env, "users", "list", "--json")[1])
    assert {r["username"]: r["role"] for r in rows} == {"ann": "viewer", "root": "admin"}
    assert "password_hash" not in rows[0]
    assert _run(env, "users", "set-role", "ann", "operator")[0] == 0
    code, out = _run(env, "users", "set-role", "root", "viewer")
    assert code == 2 and "last admin" in out
    assert _run(env, "users", "set-password", "ann", "--password-stdin", stdin="ann-password-2\n")[0] == 0
    assert _run(env, "users", "set-password", "nobody", "--password-stdin", stdin="whatever-123\n")[0] == 2
    code, out = _run(env, "users", "remove", "root")
    assert code == 2 and "last admin" in out
    assert _run(env, "users", "remove", "ann")[0] == 0
    store = Store.from_settings(config.load(env))
    assert [u.username for u in store.accounts.list()] == ["root"]
    assert store.accounts.authenticate("root", "root-password-1") is not None
    store.dispose()


def test_serve_refuses_production_without_a_key(env: dict[str, str]) -> None:
    code, out = _run({**env, "ADU_ENV": "production"}, "serve", "--port", "1")
    assert code == 2 and "ADU_SECRET_KEY" in out
    code, out = _run({**env, "ADU_ENV": "production", "ADU_SECRET_KEY": "short"}, "worker", "--once")
    assert code == 2 and "ADU_SECRET_KEY" in out


def test_worker_once_runs_a_queued_job(env: dict[str, str], tmp_path: Path) -> None:
    from adu_duckdb.demo import make_demo_database

    make_demo_database(str(tmp_path / "demo.duckdb"))
    store = Store.from_settings(config.load(env))
    job_id = store.create_job(
        JobSpec(source=f"duckdb://{tmp_path / 'demo.duckdb'}", target=str(tmp_path / "out"), parallel=1),
        created_by="test",
    )
    code, out = _run(env, "worker", "--once")
    assert code == 0 and "ran one job" in out
    assert store.get_job(job_id).status.value == "succeeded"
    assert "no queued job" in _run(env, "worker", "--once")[1]
    store.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read() or b"{}")


def test_serve_runs_the_app_and_an_embedded_worker(env: dict[str, str], tmp_path: Path) -> None:
    from adu_duckdb.demo import make_demo_database

    make_demo_database(str(tmp_path / "demo.duckdb"))
    _run(env, "users", "add", "op", "--role", "operator", "--password-stdin", stdin="op-password-1\n")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [ADU, "serve", "--port", str(port), "--workers", "1"],
        env={**os.environ, **env, "ADU_WEB_FILE_ROOT": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def ready() -> bool:
            try:
                return _get(base + "/readyz")[0] == 200
            except OSError:
                return False

        assert wait_for(ready, timeout=60), "adu serve never became ready"
        assert _get(base + "/readyz") == (200, {"status": "ok", "store": "ok", "workers": 1})
        assert _get(base + "/healthz") == (200, {"status": "ok"})
        auth = {
            "Authorization": "Basic " + base64.b64encode(b"op:op-password-1").decode(),
            "Content-Type": "application/json",
        }
        body = json.dumps(
            {"source": f"duckdb://{tmp_path / 'demo.duckdb'}", "target": str(tmp_path / "out"), "parallel": 1}
        ).encode()
        code, job = _get(base + "/api/jobs", auth, body)
        assert code == 201, job
        assert wait_for(
            lambda: _get(f"{base}/api/jobs/{job['id']}", auth)[1]["status"] not in ("queued", "running"), 60
        )
        assert _get(f"{base}/api/jobs/{job['id']}", auth)[1]["status"] == "succeeded"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "with 1 embedded worker(s)" in out
    assert "op-password-1" not in out


GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def test_gunicorn_config_and_wsgi_entry_point(env: dict[str, str]) -> None:
    run_env = {**os.environ, **env, "ADU_BIND": "127.0.0.1:0", "ADU_WEB_PROCESSES": "3"}
    out = subprocess.run(
        [GUNICORN, "-c", "python:adu_web.gunicorn_conf", "--print-config", "adu_web.wsgi:app"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    pairs = (line.split(" = ", 1) for line in out.stdout.splitlines() if " = " in line)
    config_lines = {k.strip(): v.strip() for k, v in pairs}
    assert config_lines["workers"] == "3" and config_lines["worker_class"] == "adu_web.gworker.BoundedThreadWorker"
    assert config_lines["control_socket_disable"] == "True"
    check = subprocess.run(
        [GUNICORN, "-c", "python:adu_web.gunicorn_conf", "--check-config", "adu_web.wsgi:app"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr


def test_wsgi_refuses_production_without_a_real_key(env: dict[str, str]) -> None:
    for extra in ({"ADU_ENV": "production"}, {"ADU_ENV": "production", "ADU_SECRET_KEY": "too-short"}):
        out = subprocess.run(
            [sys.executable, "-c", "import adu_web.wsgi"],
            env={**os.environ, **env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0 and "ADU_SECRET_KEY" in out.stderr
    ok = subprocess.run(
        [sys.executable, "-c", "import adu_web.wsgi; print(adu_web.wsgi.app.name)"],
        env={**os.environ, **env, "ADU_ENV": "production", "ADU_SECRET_KEY": "k" * 32},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "adu_web.app", ok.stderr
