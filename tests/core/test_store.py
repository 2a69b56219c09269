"""The job store, on SQLite and on the throwaway PostgreSQL alike: records, claims,
migrations, leases (claim, renewal, reaping), ownership of a running job, and calls that
survive an outage of the store."""

import logging
import multiprocessing
import os
import threading
import time

import psycopg2
import pyarrow as pa
import pytest
from adu_core.engine.recorder import BufferedRecorder
from adu_core.errors import NotFound, StoreUnavailable, UsageError
from adu_core.migrations import HEAD_REVISION
from adu_core.models import ColumnInfo, ErrorInfo, JobSpec, JobStatus, SourceInfo, TableInfo, TableStatus
from adu_core.store import JobEvent, PartitionRecord, Store, TableUpdate
from adu_core.store.upgrade import make_engine
from pgserver import quote_ident, wait_for

SECRET = "test-secret-key-0123456789"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A new, empty store: a SQLite file, or a fresh database of the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'adu.db'}"
        return
    pg = request.getfixturevalue("pg")
    db = pg.create_database("store")
    try:
        yield db.dsn
    finally:
        db.drop()


@pytest.fixture
def adu_store(store_url):
    """Overrides adu_core.testing's: the store of this module runs on both back ends."""
    store = Store(store_url, secret_key=SECRET, retry_seconds=2)
    try:
        yield store
    finally:
        store.dispose()


def _spec(i: int = 0) -> JobSpec:
    return JobSpec(source=f"postgresql://u:pw{i}@h/db", target=f"/tmp/out{i}")


def test_job_secret_is_encrypted_and_erased(adu_store):
    job_id = adu_store.create_job(_spec(), password="pw0")
    with adu_store.db.read() as conn:
        raw = conn.execute("SELECT spec, source, secret FROM jobs").one()
    assert "pw0" not in raw.spec and "pw0" not in raw.source
    assert b"pw0" not in bytes(raw.secret)
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


def _expire(store: Store, job_id: str) -> None:
    """Make the job's lease run out (as it does when nobody renews it)."""
    with store.db.write() as conn:
        conn.execute(f"UPDATE jobs SET lease_expires_at = {time.time() - 1} WHERE id = '{job_id}'")


def test_a_claim_holds_a_lease_that_the_heartbeat_renews(adu_store):
    job_id = adu_store.create_job(_spec())
    before = time.time()
    job = adu_store.claim_job("w1", lease_seconds=30)
    assert job.id == job_id and job.worker_id == "w1" and not job.foreground
    assert before + 30 <= job.lease_expires_at <= time.time() + 30
    assert adu_store.reap_expired() == []  # not expired: nothing happens
    _expire(adu_store, job_id)
    assert adu_store.heartbeat(job_id, "w1", lease_seconds=5)  # renewed before anyone reaped it
    assert adu_store.get_job(job_id).lease_expires_at > time.time() + 4
    assert not adu_store.heartbeat(job_id, "someone else")
    assert adu_store.reap_expired() == []


def _planned(store: Store, *names: str, foreground: bool = False) -> str:
    job_id = store.create_job(_spec(), password="pw0")
    store.claim_job("w1", job_id=job_id, lease_seconds=60, foreground=foreground)
    col = ColumnInfo("id", "bigint", pa.int64())
    plan = [(TableInfo("public", n, (col,), row_estimate=10), 1) for n in names]
    store.set_job_plan(job_id, SourceInfo(url="postgresql://u@h/db", kind="postgresql"), plan)
    return job_id


def test_an_expired_workers_job_is_requeued_to_complete_it_until_its_attempts_run_out(adu_store):
    job_id = _planned(adu_store, "done", "todo")
    adu_store.record_batch(job_id, tables=[TableUpdate("public", "done", status=TableStatus.SUCCEEDED)])
    adu_store.record_batch(job_id, tables=[TableUpdate("public", "todo", status=TableStatus.RUNNING)])
    _expire(adu_store, job_id)
    (reaped,) = adu_store.reap_expired(max_attempts=2)
    assert (reaped.id, reaped.requeued, reaped.worker_id, reaped.target) == (job_id, True, "w1", "/tmp/out0")
    job = adu_store.get_job(job_id)
    assert job.status == JobStatus.QUEUED and job.worker_id is None and job.requeues == 1
    assert job.spec.retry and job.spec.retry_tables == ("public.todo",)  # the published table is kept
    assert job.has_secret  # a worker needs it to run the job again
    assert {t.name: t.status for t in adu_store.list_tables(job_id)}["todo"] == TableStatus.PENDING
    assert "queued again to complete it (run 2 of 2)" in adu_store.list_events(job_id)[-1].message
    assert not adu_store.heartbeat(job_id, "w1")  # the dead run's claim is gone
    # run 2 dies too: the attempts ran out
    adu_store.claim_job("w2", job_id=job_id, lease_seconds=60)
    _expire(adu_store, job_id)
    (reaped,) = adu_store.reap_expired(max_attempts=2)
    assert not reaped.requeued
    job = adu_store.get_job(job_id)
    assert job.status == JobStatus.STALE and not job.has_secret
    assert f"stopped answering 2 time(s); `adu jobs retry {job_id}` runs it again" in job.error["message"]


def test_an_expired_foreground_job_becomes_stale_with_its_next_step(adu_store):
    job_id = _planned(adu_store, "a", foreground=True)
    assert adu_store.get_job(job_id).foreground
    _expire(adu_store, job_id)
    (reaped,) = adu_store.reap_expired(max_attempts=3)
    assert not reaped.requeued
    job = adu_store.get_job(job_id)
    assert job.status == JobStatus.STALE and job.finished_at is not None
    assert "(w1) stopped without finishing it (killed or crashed)" in job.error["message"]
    assert f"`adu jobs retry {job_id}` completes the export" in job.error["message"]
    assert adu_store.list_tables(job_id)[0].status == TableStatus.FAILED
    assert adu_store.reap_expired() == []  # reaped once
    # a stale job can be cancelled, and retried
    assert adu_store.request_cancel(job_id).status == JobStatus.CANCELLED
    retried = adu_store.retry_job(job_id)
    assert retried.status == JobStatus.QUEUED and retried.spec.retry and retried.requeues == 0


def test_a_job_claimed_before_leases_expires_60_s_after_its_heartbeat(adu_store):
    job_id = _planned(adu_store, "a")
    with adu_store.db.write() as conn:
        conn.execute(
            f"UPDATE jobs SET lease_expires_at = NULL, heartbeat_at = {time.time() - 30} WHERE id = '{job_id}'"
        )
    assert adu_store.reap_expired() == []
    with adu_store.db.write() as conn:
        conn.execute(f"UPDATE jobs SET heartbeat_at = {time.time() - 61} WHERE id = '{job_id}'")
    assert [r.id for r in adu_store.reap_expired()] == [job_id]


def test_only_the_run_that_owns_a_job_records_it(adu_store):
    job_id = _planned(adu_store, "a")
    update = TableUpdate("public", "a", status=TableStatus.SUCCEEDED, rows=5)
    assert not adu_store.record_batch(job_id, tables=[update], worker_id="not-the-owner")
    assert adu_store.list_tables(job_id)[0].status == TableStatus.PENDING
    assert not adu_store.finish_job(job_id, JobStatus.SUCCEEDED, worker_id="not-the-owner")
    assert not adu_store.requeue_job(job_id, "not-the-owner", "shutting down")
    assert adu_store.get_job(job_id).status == JobStatus.RUNNING
    assert adu_store.record_batch(job_id, tables=[update], worker_id="w1")
    assert adu_store.requeue_job(job_id, "w1", "the worker shut down")
    job = adu_store.get_job(job_id)
    assert job.status == JobStatus.QUEUED and job.requeues == 0 and job.spec.retry and job.spec.retry_tables == ()
    assert adu_store.list_events(job_id)[-1].message == "the worker shut down"


def test_a_retry_after_a_failed_manifest_keeps_every_table_and_overwrite_starts_again(adu_store):
    job_id = _planned(adu_store, "a", "b")
    entry = {"schema": "public", "name": "a", "status": "succeeded", "files": []}
    adu_store.record_batch(
        job_id,
        tables=[
            TableUpdate("public", n, status=TableStatus.SUCCEEDED, entry=entry if n == "a" else None) for n in "ab"
        ],
    )
    adu_store.finish_job(job_id, JobStatus.FAILED, error=ErrorInfo(message="the manifest could not be written"))
    assert adu_store.list_tables(job_id)[0].entry == entry
    job = adu_store.retry_job(job_id)
    assert job.spec.retry and job.spec.retry_tables == ()  # only the manifest is missing
    adu_store.claim_job("w2", job_id=job_id)
    adu_store.finish_job(job_id, JobStatus.SUCCEEDED)
    with pytest.raises(UsageError, match="nothing to retry"):
        adu_store.retry_job(job_id)
    job = adu_store.retry_job(job_id, overwrite=True)
    assert job.spec.overwrite and not job.spec.retry and job.spec.retry_tables == ()
    # set_job_plan of the next run forgets the entries of the tables it runs again
    adu_store.claim_job("w3", job_id=job_id)
    col = ColumnInfo("id", "bigint", pa.int64())
    adu_store.set_job_plan(job_id, SourceInfo(url="x", kind="postgresql"), [(TableInfo("public", "a", (col,)), 1)])
    assert adu_store.list_tables(job_id)[0].entry is None


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
    with adu_store.db.read() as conn:
        stored = conn.execute("SELECT password_hash FROM users").scalar()
    assert "battery" not in stored and stored.startswith("scrypt$")


def test_migrations_are_idempotent(adu_store):
    adu_store.migrate()
    with adu_store.db.read() as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").scalar()
    assert version == HEAD_REVISION


def test_head_revision_constant_matches_alembic(adu_store):
    from adu_core.migrations import HEAD_REVISION
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "adu_core:migrations")
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def _schema_of(url: str, *, version: bool = True) -> dict:
    """Tables, columns (type, nullability, default), keys, indexes and foreign keys of the
    database at ``url``, as SQLAlchemy reflects them."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            import sqlalchemy as sa

            ins = sa.inspect(conn)
            out = {}
            for name in sorted(ins.get_table_names()):
                out[name] = {
                    "columns": sorted(  # by name: a migration adds its columns at the end
                        (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in ins.get_columns(name)
                    ),
                    "pk": ins.get_pk_constraint(name)["constrained_columns"],
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), i["unique"]) for i in ins.get_indexes(name)
                    ),
                    "fks": sorted(
                        (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                        for f in ins.get_foreign_keys(name)
                    ),
                    "unique": sorted(tuple(u["column_names"]) for u in ins.get_unique_constraints(name)),
                }
            if version:
                out["version"] = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            return out
    finally:
        engine.dispose()


def test_a_new_store_is_created_as_the_migrations_would_leave_it(store_url, tmp_path, request):
    """A new store is made from the schema module and stamped (no Alembic at start-up);
    it must be exactly what running every migration gives."""
    from alembic import command
    from alembic.config import Config

    Store(store_url, secret_key=SECRET).dispose()  # created and stamped
    if store_url.startswith("sqlite"):
        migrated_url = f"sqlite:///{tmp_path / 'migrated.db'}"
        db = None
    else:
        db = request.getfixturevalue("pg").create_database("migrated")
        migrated_url = db.dsn
    try:
        engine = make_engine(migrated_url)
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", "adu_core:migrations")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        engine.dispose()
        created, migrated = _schema_of(store_url), _schema_of(migrated_url)
        assert created["version"] == migrated["version"] == HEAD_REVISION
        assert set(created) == set(migrated)
        for name in migrated:
            assert created[name] == migrated[name], name
    finally:
        if db is not None:
            db.drop()


def test_a_new_stores_ddl_is_the_schema_modules_tables(store_url, tmp_path, request):
    """The plain DDL a new store is made from (adu_core.store.ddl, no SQLAlchemy) creates
    what ``metadata.create_all`` of adu_core.store.schema creates: tables, columns, keys,
    indexes, foreign keys and unique constraints alike."""
    from adu_core.store.schema import metadata

    Store(store_url).dispose()  # created from the DDL
    if store_url.startswith("sqlite"):
        reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
        db = None
    else:
        db = request.getfixturevalue("pg").create_database("reference")
        reference_url = db.dsn
    try:
        engine = make_engine(reference_url)
        with engine.begin() as conn:
            metadata.create_all(conn)
        engine.dispose()
        created, reference = _schema_of(store_url), _schema_of(reference_url, version=False)
        assert set(created) == {*reference, "alembic_version", "version"}
        assert set(reference) == set(metadata.tables)
        for name in metadata.tables:
            assert created[name] == reference[name], name
        assert created["version"] == HEAD_REVISION
    finally:
        if db is not None:
            db.drop()


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


def test_an_older_store_is_migrated_and_keeps_its_jobs_and_partitions(store_url):
    from alembic import command
    from alembic.config import Config

    old = Store(store_url, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", "adu_core:migrations")
    engine = make_engine(store_url)  # SQLAlchemy, as Alembic needs it
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    spec = _spec().redacted().to_json().replace("'", "''")
    now = time.time()
    with old.db.write() as conn:  # what ADU 0001 wrote: a job running, a table, a partition
        conn.execute(
            "INSERT INTO jobs (id, status, spec, source, target, created_at, heartbeat_at, worker_id, attempt)"
            f" VALUES ('j1', 'running', '{spec}', 'postgresql://u@h/db', '/tmp/out0', {now}, {now}, 'w0', 1)"
        )
        conn.execute("INSERT INTO job_tables (job_id, schema, name, status) VALUES ('j1', 'public', 't', 'running')")
        table_id = conn.execute("SELECT id FROM job_tables").scalar()
        conn.execute(
            "INSERT INTO job_partitions (job_id, table_id, idx, status, rows, attempts) "
            f"VALUES ('j1', {table_id}, 0, 'succeeded', 5, 1)"
        )
    old.dispose()
    store = Store(store_url)  # migrates to the head revision
    job = store.get_job("j1")
    assert job.lease_expires_at == pytest.approx(now + 60) and not job.foreground and job.requeues == 0
    (part,) = store.list_partitions("j1")
    assert (part.rows, part.worker) == (5, None)
    store.record_batch("j1", partitions=[PartitionRecord("public", "t", 1, TableStatus.SUCCEEDED, worker="h:9")])
    assert [p.worker for p in store.list_partitions("j1")] == [None, "h:9"]
    assert store.list_tables("j1")[0].entry is None
    store.dispose()


def test_a_running_jobs_lease_is_renewed_and_says_when_to_stop(adu_store, tmp_path, monkeypatch):
    from adu_core import config
    from adu_core.engine.lease import JobLease
    from adu_core.engine.runner import JobRunner
    from adu_core.plugin.manager import get_plugins

    monkeypatch.setenv("ADU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADU_HEARTBEAT_SECONDS", "7")
    monkeypatch.setenv("ADU_STALE_SECONDS", "30")
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
    assert (runner.lease.interval, runner.lease.lease_seconds) == (7.0, 30.0)  # the settings
    lease = JobLease(adu_store, job_id, "w1", interval=7.0, lease_seconds=30.0)
    lease.renew()
    assert lease.check() is None and lease.held()
    assert adu_store.get_job(job_id).lease_expires_at > time.time() + 29
    adu_store.request_cancel(job_id)
    lease.renew()
    assert lease.check() == (logging.WARNING, "cancel requested: stopping every partition")
    assert lease.check() is None  # said once
    assert lease.held()  # a cancelled job still holds its lease while it winds down
    assert not lease.held(time.monotonic() + 15)  # half a lease without renewal: no publishing
    _expire(adu_store, job_id)
    adu_store.reap_expired()
    lease.renew()
    assert lease.check() == (logging.ERROR, "this job is no longer ours (its lease expired): stopping")
    assert not lease.held() and not lease.wait_held()


def test_a_lease_keeps_a_job_alive_while_the_run_is_busy_elsewhere(adu_store):
    from adu_core.engine.lease import JobLease

    job_id = adu_store.create_job(_spec())
    adu_store.claim_job("w1", job_id=job_id, lease_seconds=2)
    first = adu_store.get_job(job_id).lease_expires_at
    lease = JobLease(adu_store, job_id, "w1", interval=0.1, lease_seconds=2).start()
    try:
        # the renewing thread works while this thread does something else
        assert wait_for(lambda: adu_store.get_job(job_id).lease_expires_at > first, timeout=30)
    finally:
        lease.close()


def _cut(pg, name: str) -> None:
    pg.execute(f"ALTER DATABASE {quote_ident(name)} ALLOW_CONNECTIONS false")
    pg.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def _restore(pg, name: str) -> None:
    pg.execute(f"ALTER DATABASE {quote_ident(name)} ALLOW_CONNECTIONS true")


def test_store_calls_wait_through_an_outage_logged_once_and_give_up_after_their_retries(pg, caplog):
    db = pg.create_database("outage")
    store = Store(db.dsn, retry_seconds=60)
    try:
        job_id = store.create_job(_spec())
        _cut(pg, db.name)
        got: dict = {}
        calls = [threading.Thread(target=lambda: got.setdefault("job", store.get_job(job_id))) for _ in range(3)]
        with caplog.at_level(logging.WARNING, logger="adu.store"):
            for t in calls:
                t.start()
            assert wait_for(lambda: store.outage.since is not None, timeout=30)  # met the outage, retrying
            _restore(pg, db.name)
            for t in calls:
                t.join(timeout=60)
        assert got["job"].id == job_id and store.outage.since is None
        messages = [r.getMessage() for r in caplog.records if r.name == "adu.store"]
        assert len([m for m in messages if "is unreachable" in m]) == 1, messages  # not once per call
        assert len([m for m in messages if "answers again" in m]) == 1, messages
        assert not any("secret" in m or pg.password in m for m in messages)
        # bounded: an outage longer than the retries is one clear error
        store.retry_seconds = 0.5
        _cut(pg, db.name)
        try:
            with pytest.raises(StoreUnavailable, match="is unreachable"):
                store.count_jobs()
        finally:
            _restore(pg, db.name)
        # an error that is no outage is not retried
        store.retry_seconds = 60
        started = time.monotonic()
        with pytest.raises(NotFound):
            store.get_job("0" * 32)
        with pytest.raises(psycopg2.ProgrammingError), store.db.write() as conn:
            conn.execute("SELECT no_such_column FROM jobs")
        assert time.monotonic() - started < 30
    finally:
        store.dispose()
        db.drop()


def test_a_store_that_cannot_be_opened_says_so_at_once(tmp_path):
    with pytest.raises(StoreUnavailable, match=r"cannot open the job store .*Connection refused"):
        Store("postgresql://u:hunter2@127.0.0.1:1/x")
    with pytest.raises(UsageError, match="not a database URL"):
        Store("postgresql://u:hunter2@127.0.0.1:notaport/x")


def test_heartbeat_setting(tmp_path):
    from adu_core import config

    env = {"ADU_DATA_DIR": str(tmp_path)}
    assert config.load(env).heartbeat_seconds == 1.0
    assert config.VARIABLES["ADU_HEARTBEAT_SECONDS"][0] == "1"
    assert config.load({**env, "ADU_HEARTBEAT_SECONDS": "5"}).heartbeat_seconds == 5.0
    with pytest.raises(UsageError, match="ADU_HEARTBEAT_SECONDS must be less than ADU_STALE_SECONDS"):
        config.load({**env, "ADU_HEARTBEAT_SECONDS": "60"})
