"""Helpers of the fault tests: ADU as real processes, a source database with a brake, the
job store read from the test, and the proof that an export is exact.

The *brake* holds an exclusive advisory lock that every row of the view ``public.orders``
asks for (shared) as it is read: an export's COPY of it waits until the brake is released,
while every other table exports (a lock on the table itself would stop the planning too:
``pg_relation_size`` locks it). A test reaches its fault point by waiting on the store (so
many tables succeeded, the job is running) with the job parked on the brake — never by
sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from adu_core.models import JobStatus
from adu_core.store import JobRow, Store
from pgserver import AdvisoryLock, wait_for

ADU = [sys.executable, "-m", "adu_cli.entry"]
SECRET_KEY = "fault-tests-secret-key-0123456789"
MANY = 24  # tables in schema "many"
ORDERS = 5000


BRAKE_KEY = 4242


def source_sql() -> str:
    """The view ``public.orders`` (braked; its rows in ``base.orders``) and the tables
    ``many.t00`` .. ``many.t23``."""
    parts = [
        "CREATE SCHEMA base;",
        "CREATE TABLE base.orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(12,2));",
        f"INSERT INTO base.orders SELECT g, 'customer ' || (g % 97), g * 1.25 FROM generate_series(1, {ORDERS}) g;",
        "CREATE FUNCTION base.brake() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$ BEGIN"
        f" PERFORM pg_advisory_lock_shared({BRAKE_KEY}); PERFORM pg_advisory_unlock_shared({BRAKE_KEY});"
        " RETURN true; END $$;",
        # the first half flows (into staging), the rest waits for the brake
        f"CREATE VIEW public.orders AS SELECT * FROM base.orders WHERE id <= {ORDERS // 2} OR base.brake();",
        "CREATE SCHEMA many;",
    ]
    for i in range(MANY):
        parts.append(
            f"CREATE TABLE many.t{i:02d} (id int PRIMARY KEY, label text);"
            f"INSERT INTO many.t{i:02d} SELECT g, 'row {i} ' || g FROM generate_series(1, {20 + i}) g;"
        )
    return "\n".join(parts)


def base_env(data_dir: Path, *, store_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of an ADU process of a fault test: short leases (2 s, renewed
    every second), a store retry of 1 s, no PG* variables of the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update(
        ADU_DATA_DIR=str(data_dir),
        ADU_ENV="test",
        ADU_SECRET_KEY=SECRET_KEY,
        ADU_STALE_SECONDS="2",
        ADU_HEARTBEAT_SECONDS="1",
        ADU_STORE_RETRY_SECONDS="1",
        ADU_SHUTDOWN_SECONDS="1",
        ADU_PARALLEL="2",
        ADU_BATCH_ROWS="500",
    )
    if store_url:
        env["ADU_STORE_URL"] = store_url
    env.update(extra)
    return env


def adu(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``adu ARGS`` to its end."""
    return subprocess.run([*ADU, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def spawn(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[str]:
    """Start ``adu ARGS`` (stdout and stderr to ``log`` when given, else pipes)."""
    if log is not None:
        with open(log, "w") as out:  # the child has its own copy of the descriptor
            return subprocess.Popen([*ADU, *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    return subprocess.Popen([*ADU, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen[str], sig: int | None = signal.SIGKILL, timeout: float = 60) -> tuple[str, str]:
    """Send ``sig`` (None: none) and wait for the process; its output (empty when it went
    to a file). A process still there after ``timeout`` is killed."""
    if proc.poll() is None and sig is not None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out or "", err or ""


@contextmanager
def braked(dsn: str) -> Iterator[AdvisoryLock]:
    """The exclusive advisory lock that parks reads of ``public.orders`` (see the module)."""
    brake = AdvisoryLock(dsn, BRAKE_KEY)
    try:
        yield brake
    finally:
        brake.release()


def open_store(env: dict[str, str]) -> Store:
    url = env.get("ADU_STORE_URL") or f"sqlite:///{Path(env['ADU_DATA_DIR']) / 'adu.db'}"
    return Store(url, secret_key=SECRET_KEY, retry_seconds=5)


def only_job(store: Store) -> JobRow:
    (job,) = store.list_jobs()
    return job


def wait_job(store: Store, job_id: str, predicate: Any, timeout: float = 120, what: str = "") -> JobRow:
    """Wait until ``predicate(job)`` holds for the job (read from the store)."""
    assert wait_for(lambda: predicate(store.get_job(job_id)), timeout=timeout), (
        f"job {job_id} never reached {what or 'the awaited state'}: {store.get_job(job_id)}"
    )
    return store.get_job(job_id)


def wait_status(store: Store, job_id: str, *statuses: JobStatus, timeout: float = 120) -> JobRow:
    return wait_job(store, job_id, lambda j: j.status in statuses, timeout, "/".join(s.value for s in statuses))


def succeeded_tables(store: Store, job_id: str) -> int:
    return sum(1 for t in store.list_tables(job_id) if t.status.value == "succeeded")


def staged_files(out: Path) -> list[Path]:
    staging = out / ".adu-staging"
    return sorted(p for p in staging.rglob("*") if p.is_file()) if staging.exists() else []


def export_tables(out: Path) -> dict[str, Path]:
    """``schema.table`` -> folder, from the manifest of the export in ``out``."""
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        f"{t['schema']}.{t['name']}": out / Path(t["files"][0]["path"]).parent for t in manifest["tables"] if t["files"]
    }


def assert_exact(db: Any, out: Path, env: dict[str, str], *, expect: Sequence[str] | None = None) -> None:
    """``adu verify`` passes on ``out`` and every table holds exactly the source's rows."""
    res = adu(env, "verify", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    tables = export_tables(out)
    wanted = list(expect) if expect is not None else ["public.orders", *(f"many.t{i:02d}" for i in range(MANY))]
    assert sorted(tables) == sorted(wanted)
    for name, folder in tables.items():
        got = sorted(tuple(r.values()) for r in pq.read_table(folder).to_pylist())
        src = sorted(tuple(r) for r in db.execute(f"SELECT * FROM {name}"))
        assert got == src, f"{name}: the export's rows differ from the source's"


def service_log(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "logs" / "adu.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def logged(data_dir: Path, text: str) -> list[dict[str, Any]]:
    return [e for e in service_log(data_dir) if text in str(e.get("message", ""))]


PLUGIN_DIR = Path(__file__).parent / "plugin"


def plugin_env(tmp: Path, env: dict[str, str], mode: str, **extra: str) -> dict[str, str]:
    """``env`` with the fault plugin (``plugin/adu_fault_plugin.py``) installed the way a
    third-party plugin is: a distribution with an ``adu`` entry point on ``PYTHONPATH``."""
    site = tmp / "fault-site"
    info = site / "adu_fault_plugin-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: adu-fault-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[adu]\nfaults = adu_fault_plugin\n")
    path = os.pathsep.join([str(site), str(PLUGIN_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**env, "PYTHONPATH": path, "ADU_FAULT_VALIDATOR": mode, **extra}


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The processes of ``pids`` still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def store_url(db: Any) -> str:
    """The URL of a job store in the test database ``db`` (spelled as SQLAlchemy would,
    ``postgresql+psycopg2://``, which ADU accepts too)."""
    return str(db.dsn).replace("postgresql://", "postgresql+psycopg2://", 1)


@contextmanager
def outage(pg: Any, db: Any) -> Iterator[None]:
    """The database ``db`` refuses connections and loses every session, until the end:
    a job store that went away."""
    from pgserver import quote_ident

    pg.execute(f"ALTER DATABASE {quote_ident(db.name)} ALLOW_CONNECTIONS false")
    try:
        pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.name,),
        )
        yield
    finally:
        pg.execute(f"ALTER DATABASE {quote_ident(db.name)} ALLOW_CONNECTIONS true")
