import multiprocessing
import time

import pytest
from adu_core.errors import NotFound, UsageError
from adu_core.models import JobSpec, JobStatus
from adu_core.store import Store


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
    assert version == "0001"


def test_head_revision_constant_matches_alembic(adu_store):
    from adu_core.migrations import HEAD_REVISION
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "adu_core:migrations")
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION
