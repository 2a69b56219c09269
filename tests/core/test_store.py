import logging
import multiprocessing
import os
import time

import pyarrow as pa
import pytest
from adu_core.engine.recorder import BufferedRecorder
from adu_core.errors import NotFound, UsageError
from adu_core.migrations import HEAD_REVISION
from adu_core.models import ColumnInfo, ErrorInfo, JobSpec, JobStatus, SourceInfo, TableInfo, TableStatus
from adu_core.store import JobEvent, PartitionRecord, Store, TableUpdate


def _spec(i: int = 0) -> JobSpec:
    return JobSpec(source=f"postgresql://u:pw{i}@h/db", target=f"/tmp/out{i}")


def test_job_secret_is_encrypted_and_erased(adu_store):
    job_id = adu_store.create_job(_spec(), password="pw0")
    raw = adu_store.engine.connect().exec_driver_sql("SELECT spec, source, secret FROM jobs").one()
    assert "pw0" not in raw.spec and "pw0" not in raw.source
    assert b"pw0" not in raw.secret
    assert adu_store.job_secret(job_id) == "pw0"
    adu_store.finish_job(job_id, JobStatus.FAILED)
    assert adu_store.job_secret(job_id) is None
    assert not adu_store.get_job(job_id).has_secret


def test_unknown_job_and_prefix(adu_store):
    job_id = adu_store.create_job(_spec())
    assert adu_store.get_job(job_id[:8]).id == job_id
    with pytest.raises(NotFound):
        adu_store.get_job("0" * 32)
    with pytest.raises(NotFound):
        adu_store.get_job("../etc/passwd")


def _claimer(url: str, n: int, out) -> None:
    store = Store(url, migrate=False)
    got = []
    while True:
        job = store.claim_job(f"w{n}")
        if job is None:
            break
        got.append(job.id)
    out.put(got)


def test_concurrent_claims_from_processes_never_share_a_job(adu_store):
    ids = {adu_store.create_job(_spec(i)) for i in range(40)}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(adu_store.url, n, out)) for n in range(4)]
    for p in procs:
        p.start()
    claimed = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    flat = [j for c in claimed for j in c]
    assert sorted(flat) == sorted(ids)  # every job once, none twice
    assert adu_store.count_jobs(status="running") == 40


def test_dead_worker_leaves_a_stale_job(adu_store):
    job_id = adu_store.create_job(_spec())
    adu_store.claim_job("w1")
    assert adu_store.mark_stale(60) == []
    time.sleep(0.05)
    assert adu_store.mark_stale(0.01) == [job_id]
    job = adu_store.get_job(job_id)
    assert job.status == JobStatus.STALE and "stopped answering" in job.error["message"]
    assert not adu_store.heartbeat(job_id, "w1")


def test_cancel_and_retry(adu_store):
    queued = adu_store.create_job(_spec(1))
    assert adu_store.request_cancel(queued).status == JobStatus.CANCELLED
    with pytest.raises(UsageError, match="already finished"):
        adu_store.request_cancel(queued)
    job = adu_store.retry_job(queued)
    assert job.status == JobStatus.QUEUED and not job.cancel_requested


def test_users_roles_and_lockout(adu_store):
    adu_store.accounts.add("ops", "correct horse", "operator")
    with pytest.raises(UsageError):
        adu_store.accounts.add("ops", "whatever123", "viewer")
    with pytest.raises(UsageError, match="role must be"):
        adu_store.accounts.add("x", "whatever123", "root")
    assert adu_store.accounts.authenticate("ops", "correct horse").role == "operator"
    for _ in range(5):
        assert adu_store.accounts.authenticate("ops", "wrong") is None
    assert adu_store.accounts.authenticate("ops", "correct horse") is None  # locked
    adu_store.accounts.set_password("ops", "battery staple")
    assert adu_store.accounts.authenticate("ops", "battery staple") is not None
    stored = adu_store.engine.connect().exec_driver_sql("SELECT password_hash FROM users").scalar()
    assert "battery" not in stored and stored.startswith("scrypt$")


def test_migrations_are_idempotent(adu_store):
    adu_store.migrate()
    version = adu_store.engine.connect().exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == HEAD_REVISION


def test_head_revision_constant_matches_alembic(adu_store):
    from adu_core.migrations import HEAD_REVISION
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "adu_core:migrations")
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def _planned_job(store: Store, *names: str) -> str:
    job_id = store.create_job(_spec())
    store.claim_job("w1", job_id=job_id)
    col = ColumnInfo("id", "bigint", pa.int64())
    plan = [(TableInfo("public", n, (col,), row_estimate=10), 2) for n in names]
    store.set_job_plan(job_id, SourceInfo(url="postgresql://u@h/db", kind="postgresql"), plan)
    return job_id


def test_buffered_records_are_typed_merged_and_written_in_one_go(adu_store):
    job_id = _planned_job(adu_store, "a", "b")
    rec = BufferedRecorder(adu_store, job_id)
    rec.table(TableUpdate("public", "a", status=TableStatus.RUNNING, started_at=5.0))
    rec.table(TableUpdate("public", "a", rows=7, bytes=70))  # merged: the status stays
    rec.partition(PartitionRecord("public", "a", 0, TableStatus.SUCCEEDED, rows=7, spec={"lo": 0}, worker="h:1"))
    err = ErrorInfo(message="boom", kind="SourceError", sqlstate="42501")
    rec.partition(PartitionRecord("public", "a", 1, TableStatus.FAILED, attempts=3, error=err, worker="h:2"))
    rec.event(JobEvent(level="info", message="connect postgresql://u:hunter2@h/db", table="public.a"))
    assert adu_store.list_tables(job_id)[0].status == TableStatus.PENDING  # nothing written before flush
    rec.flush()
    a, b = adu_store.list_tables(job_id)
    assert (a.status, a.rows, a.bytes, a.started_at) == (TableStatus.RUNNING, 7, 70, 5.0)
    assert (b.status, b.rows) == (TableStatus.PENDING, 0)
    p0, p1 = adu_store.list_partitions(job_id)
    assert (p0.table, p0.index, p0.status, p0.rows, p0.spec, p0.worker) == (
        "public.a",
        0,
        "succeeded",
        7,
        {"lo": 0},
        "h:1",
    )
    assert (p1.attempts, p1.error["sqlstate"], p1.worker) == (3, "42501", "h:2")
    (event,) = adu_store.list_events(job_id)
    assert event.level == "INFO" and "hunter2" not in event.message and event.table == "public.a"
    assert adu_store.get_job(job_id).rows == 7  # the job's totals follow its tables
    # a partition recorded again (a retried job) replaces the earlier record
    adu_store.record_batch(job_id, partitions=[PartitionRecord("public", "a", 1, TableStatus.SUCCEEDED, rows=3)])
    assert [(p.index, p.status, p.worker) for p in adu_store.list_partitions(job_id)] == [
        (0, "succeeded", "h:1"),
        (1, "succeeded", None),
    ]


def test_workers_are_typed_rows(adu_store):
    adu_store.register_worker("host:1:abc")
    (w,) = adu_store.list_workers()
    assert w.id == "host:1:abc" and w.pid == os.getpid() and w.heartbeat_at >= w.started_at
    adu_store.unregister_worker("host:1:abc")
    assert adu_store.list_workers() == []


def test_an_older_store_is_migrated_and_keeps_its_partitions(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", "adu_core:migrations")
    with old._tx() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    job_id = _planned_job(old, "t")
    with old._tx() as conn:
        table_id = conn.exec_driver_sql("SELECT id FROM job_tables").scalar()
        conn.exec_driver_sql(
            "INSERT INTO job_partitions (job_id, table_id, idx, status, rows, attempts) "
            f"VALUES ('{job_id}', {table_id}, 0, 'succeeded', 5, 1)"
        )
    old.dispose()
    store = Store(url)  # migrates to the head revision
    (part,) = store.list_partitions(job_id)
    assert (part.rows, part.worker) == (5, None)
    store.record_batch(job_id, partitions=[PartitionRecord("public", "t", 1, TableStatus.SUCCEEDED, worker="h:9")])
    assert [p.worker for p in store.list_partitions(job_id)] == [None, "h:9"]


def test_a_running_job_is_watched_every_heartbeat_interval(adu_store, monkeypatch):
    from adu_core import config
    from adu_core.engine.runner import JobRunner, JobWatch
    from adu_core.plugin.manager import get_plugins

    monkeypatch.setenv("ADU_HEARTBEAT_SECONDS", "7")
    settings = config.load()
    job_id = adu_store.create_job(_spec())
    adu_store.claim_job("w1", job_id=job_id)
    runner = JobRunner(
        adu_store,
        job_id,
        _spec(),
        settings,
        get_plugins(),
        on_progress=None,
        executor="auto",
        mp_start=None,
        worker_id="w1",
    )
    assert runner.watch.interval == 7.0  # ADU_HEARTBEAT_SECONDS
    watch = JobWatch(adu_store, job_id, "w1", interval=7.0)
    assert watch.check(100.0) is None  # looked: alive, not cancelled
    beat = adu_store.get_job(job_id).heartbeat_at
    adu_store.request_cancel(job_id)
    assert watch.check(106.9) is None  # within the interval: the store is not asked
    assert adu_store.get_job(job_id).heartbeat_at == beat
    assert watch.check(107.0) == (logging.WARNING, "cancel requested: stopping every partition")
    assert adu_store.get_job(job_id).heartbeat_at > beat  # renewed even while it winds down
    adu_store.finish_job(job_id, JobStatus.CANCELLED)
    lost = JobWatch(adu_store, job_id, "w2", interval=7.0)
    assert lost.check(200.0) == (logging.WARNING, "cancel requested: stopping every partition")
    adu_store.retry_job(job_id)
    assert lost.check(300.0) == (logging.ERROR, "this job is no longer ours (marked stale?): stopping")


def test_heartbeat_setting(tmp_path):
    from adu_core import config

    env = {"ADU_DATA_DIR": str(tmp_path)}
    assert config.load(env).heartbeat_seconds == 1.0
    assert config.VARIABLES["ADU_HEARTBEAT_SECONDS"][0] == "1"
    assert config.load({**env, "ADU_HEARTBEAT_SECONDS": "5"}).heartbeat_seconds == 5.0
    with pytest.raises(UsageError, match="ADU_HEARTBEAT_SECONDS must be less than ADU_STALE_SECONDS"):
        config.load({**env, "ADU_HEARTBEAT_SECONDS": "60"})
