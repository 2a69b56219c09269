"""``adu load`` killed mid-COPY (issue 16): a real ``adu worker`` or ``adu load`` process
is SIGKILLed while one table's COPY waits on a brake in the target and the other tables
are published; the job run again completes the load — it keeps the tables the killed run
published (checked on the target, not refused by ``--if-exists fail``; one that went
away is loaded again), loads the rest —
and every table equals the source (multiset of ``t::text``). Meanwhile the target shows no
half table: only the staging table, named and commented as such, which the next run drops.

The *brake*: an event trigger of the target gives every staging table that has a column
``brake_here`` a row trigger that, after 1000 rows, waits for an advisory lock the test
holds. The kill point is reached by waiting on the job store and on ``pg_stat_activity``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from adu_core.models import JobStatus
from adu_core.store import Store
from adu_postgres.loader import STAGE_LOCK
from adu_postgres.partload import stage_name
from pg_load_helpers import export, row_texts, stage_tables
from pgserver import AdvisoryLock, wait_for

ADU = [sys.executable, "-m", "adu_cli.entry"]
SECRET_KEY = "load-kill-tests-secret-key-0123456789"
BRAKE = 16016
TABLES = ("public.small1", "public.small2", "public.slow")

SOURCE_SQL = """
CREATE TABLE small1 (id int PRIMARY KEY, t text);
INSERT INTO small1 SELECT g, 'one ' || g FROM generate_series(1, 300) g;
CREATE TABLE small2 (id int PRIMARY KEY, n numeric(10,2), d date);
INSERT INTO small2 SELECT g, g / 7.0, date '2020-01-01' + g FROM generate_series(1, 200) g;
CREATE TABLE slow (id int PRIMARY KEY, brake_here int, t text);
INSERT INTO slow SELECT g, g % 10, md5(g::text) FROM generate_series(1, 6000) g;
"""

BRAKE_SQL = f"""
CREATE FUNCTION public.adu_test_brake_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id > 1000 THEN
    PERFORM pg_advisory_lock_shared({BRAKE}); PERFORM pg_advisory_unlock_shared({BRAKE});
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION public.adu_test_brake_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
    IF obj.object_identity LIKE '%\\_adu\\_stage\\_%' AND NOT obj.object_identity LIKE '%\\_parts'
       AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = obj.objid AND attname = 'brake_here') THEN
      EXECUTE format('CREATE TRIGGER adu_test_brake BEFORE INSERT ON %s FOR EACH ROW'
                     ' EXECUTE FUNCTION public.adu_test_brake_row()', obj.object_identity);
    END IF;
  END LOOP;
END $$;
CREATE EVENT TRIGGER adu_test_brake ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION public.adu_test_brake_ddl();
"""


@pytest.fixture(scope="module")
def exported(pg: Any, tmp_path_factory: Any) -> Iterator[tuple[Any, Path]]:
    db = pg.create_database("lkill")
    db.execute(SOURCE_SQL)
    out = tmp_path_factory.mktemp("lkill") / "export"
    export(db.dsn, out, list(TABLES))
    try:
        yield db, out
    finally:
        db.drop()


@pytest.fixture
def target(pg: Any) -> Iterator[Any]:
    db = pg.create_database("lkill_t")
    db.execute(BRAKE_SQL, superuser=True)
    try:
        yield db
    finally:
        db.drop()


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update(
        ADU_DATA_DIR=str(tmp / "data"),
        ADU_ENV="test",
        ADU_SECRET_KEY=SECRET_KEY,
        ADU_STALE_SECONDS="2",
        ADU_HEARTBEAT_SECONDS="1",
        ADU_STORE_RETRY_SECONDS="1",
        ADU_SHUTDOWN_SECONDS="1",
    )
    return env


def _adu(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ADU, *args], env=env, input=stdin, capture_output=True, text=True, timeout=300)


def _spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*ADU, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err or ""


def _store(env: dict[str, str]) -> Store:
    return Store(f"sqlite:///{Path(env['ADU_DATA_DIR']) / 'adu.db'}", secret_key=SECRET_KEY, retry_seconds=5)


def _braked_copy_waits(target: Any) -> bool:
    """A backend of the target waits on the brake (the slow table's COPY, mid-way)."""
    rows = target.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        superuser=True,
    )
    return bool(rows[0][0])


def _parked(store: Store, job_id: str, target: Any) -> bool:
    done = {t.qualified_name for t in store.list_tables(job_id) if t.status.value == "succeeded"}
    return {"public.small1", "public.small2"} <= done and _braked_copy_waits(target)


def _no_half_table(target: Any) -> None:
    """The slow table is not on the target; its staging is, named and commented as such."""
    assert target.execute("SELECT to_regclass('public.slow')") == [(None,)]
    staged = stage_tables(target.dsn)
    assert staged, "the killed run's staging table is gone already"
    for name in staged:
        (comment,) = target.execute("SELECT obj_description(%s::regclass, 'pg_class')", (f"public.{name}",))[0]
        assert comment and "adu load staging" in comment, (name, comment)


def _exact(db: Any, target: Any) -> None:
    for qn in TABLES:
        schema, name = qn.split(".")
        assert row_texts(target.dsn, schema, name) == row_texts(db.dsn, schema, name), qn
    assert stage_tables(target.dsn) == []


def test_a_killed_workers_load_is_requeued_and_completed_keeping_what_it_published(
    exported: Any, target: Any, tmp_path: Path
) -> None:
    db, out = exported
    env = _env(tmp_path)
    queued = _adu(env, "load", str(out), target.dsn, "--queue", "--json", "--parallel", "2")
    assert queued.returncode == 0, queued.stderr
    job_id = json.loads(queued.stdout)["job_id"]
    store = _store(env)
    brake = AdvisoryLock(target.dsn, BRAKE)  # the braked COPY waits for it
    try:
        first = _spawn(env, "worker")
        try:
            assert wait_for(lambda: _parked(store, job_id, target), timeout=120), store.list_tables(job_id)
        finally:
            _kill(first)
        _no_half_table(target)
        # the killed run published small1 and small2 (recorded in the store); their rows are final
        assert row_texts(target.dsn, "public", "small1") == row_texts(db.dsn, "public", "small1")
    finally:
        brake.release()
    # what the store records is checked on the target: a published table that went away is loaded again
    target.execute("DROP TABLE public.small2")
    second = _spawn(env, "worker")
    try:
        assert wait_for(lambda: store.get_job(job_id).status.finished, timeout=180), store.get_job(job_id)
    finally:
        err = _kill(second, signal.SIGTERM)
    job = store.get_job(job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.requeues == 1 and "Traceback" not in err, err
    events = [e.message for e in store.list_events(job_id)]
    assert any("queued again" in m for m in events), events
    log = (Path(env["ADU_DATA_DIR"]) / "logs").rglob(f"*{job_id}*")
    text = "\n".join(p.read_text() for p in log)
    assert "public.small1: kept" in text and "public.small2: kept" not in text, text[-3000:]
    assert "public.small2: loaded by an earlier run of this job, but public.small2 is not on the target" in text
    assert {t.qualified_name: t.rows for t in store.list_tables(job_id)} == {
        "public.small1": 300,
        "public.small2": 200,
        "public.slow": 6000,
    }
    _exact(db, target)


def test_a_killed_adu_load_leaves_no_half_table_and_its_retry_completes_it(
    pg: Any, exported: Any, target: Any, tmp_path: Path
) -> None:
    db, out = exported
    env = _env(tmp_path)
    store = _store(env)
    brake = AdvisoryLock(target.dsn, BRAKE)  # the braked COPY waits for it
    try:
        proc = _spawn(env, "load", str(out), target.dsn, "--parallel", "2")
        try:
            assert wait_for(lambda: (Path(env["ADU_DATA_DIR"]) / "adu.db").exists(), timeout=60)
            assert wait_for(lambda: store.list_jobs() and _parked(store, store.list_jobs()[0].id, target), 120)
        finally:
            _kill(proc)
        job_id = store.list_jobs()[0].id
        _no_half_table(target)
    finally:
        brake.release()
    # the foreground job is taken back as stale by the next ADU process; its retry completes it
    assert wait_for(lambda: _adu(env, "jobs", "list") and store.get_job(job_id).status == JobStatus.STALE, 60)
    res = _adu(env, "jobs", "retry", job_id, "--password-stdin", stdin=pg.password + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    assert store.get_job(job_id).status == JobStatus.SUCCEEDED
    _exact(db, target)


def test_a_run_waits_for_the_staging_lock_a_killed_run_still_holds(exported: Any, target: Any, tmp_path: Path) -> None:
    """The backend of a killed run keeps its table's staging lock until PostgreSQL notices
    the closed connection: the next run waits for it instead of refusing the table."""
    db, out = exported
    env = _env(tmp_path)
    queued = _adu(env, "load", str(out), target.dsn, "--queue", "--json", "--table", "public.small1")
    assert queued.returncode == 0, queued.stderr
    job_id = json.loads(queued.stdout)["job_id"]
    store = _store(env)
    stage = stage_name(job_id, SimpleNamespace(schema="public", name="small1"))  # type: ignore[arg-type]
    holder = AdvisoryLock(  # stands for the dead run's backend
        target.dsn, STAGE_LOCK, stage, lock_sql="SELECT pg_advisory_lock(%s, hashtext(%s))"
    )
    logs = Path(env["ADU_DATA_DIR"]) / "logs"

    def waiting() -> bool:
        text = "\n".join(p.read_text() for p in logs.rglob(f"*{job_id}*"))
        return "public.small1: waiting for another run of this job" in text

    worker = _spawn(env, "worker")
    try:
        try:
            assert wait_for(waiting, timeout=120), store.get_job(job_id).error
            assert not store.get_job(job_id).status.finished
        finally:
            holder.release()  # the dead backend goes away
        assert wait_for(lambda: store.get_job(job_id).status.finished, timeout=120), store.get_job(job_id)
    finally:
        _kill(worker, signal.SIGTERM)
    job = store.get_job(job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert row_texts(target.dsn, "public", "small1") == row_texts(db.dsn, "public", "small1")
