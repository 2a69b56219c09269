"""Jobs in the store: their life cycle from queued to finished, and their secret.

A job moves ``queued -> running -> succeeded | partial | failed | cancelled``; ``stale``
when the process running it stopped answering. While it runs it belongs to the worker
that claimed it, for as long as that worker keeps it alive:

* :meth:`JobStore.claim_job` hands a queued job to one worker, atomically;
* :meth:`JobStore.heartbeat` renews the claim (False once the job is no longer that
  worker's: reaped, or finished elsewhere), and the engine stops a job it lost;
* :meth:`JobStore.mark_stale` reaps the running jobs whose claim was not renewed in time.

All three are written against :func:`_owned` and :func:`_expired`, the one definition of
"this worker's running job" and "a claim nobody renewed", so a claim with an explicit
expiry (renewed by the heartbeat, reaped by whichever process opens the store) changes
those two places and the values the claim and the heartbeat set.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from adu_core.errors import NotFound, UsageError
from adu_core.models import ErrorInfo, JobSpec, JobStatus, TableStatus
from adu_core.store import crypto
from adu_core.store.base import StoreBase
from adu_core.store.progress import table_totals
from adu_core.store.records import JobRow, loads
from adu_core.store.schema import events, job_partitions, job_tables, jobs


def new_job_id() -> str:
    return uuid.uuid4().hex


def worker_identity() -> str:
    """A unique name for a process that claims jobs: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def job_row(r: Any) -> JobRow:
    """A :class:`JobRow` from a row of ``jobs``."""
    return JobRow(
        id=r.id,
        name=r.name,
        status=JobStatus(r.status),
        spec=JobSpec.from_json(r.spec),
        source=r.source,
        target=r.target,
        created_by=r.created_by,
        created_at=r.created_at,
        started_at=r.started_at,
        finished_at=r.finished_at,
        heartbeat_at=r.heartbeat_at,
        worker_id=r.worker_id,
        attempt=r.attempt,
        cancel_requested=bool(r.cancel_requested),
        tables_total=r.tables_total,
        tables_done=r.tables_done,
        tables_failed=r.tables_failed,
        rows=r.rows,
        bytes=r.bytes,
        rows_estimate=r.rows_estimate,
        error=loads(r.error),
        source_info=loads(r.source_info),
        manifest_path=r.manifest_path,
        has_secret=r.secret is not None,
    )


def _statuses(status: str | Sequence[str]) -> list[str]:
    return [status] if isinstance(status, str) else list(status)


def _owned(job_id: str, worker_id: str) -> sa.ColumnElement[bool]:
    """The job is running and claimed by ``worker_id``."""
    return sa.and_(jobs.c.id == job_id, jobs.c.worker_id == worker_id, jobs.c.status == JobStatus.RUNNING.value)


def _expired(now: float, older_than_seconds: float) -> sa.ColumnElement[bool]:
    """The job is running and its claim was last renewed more than ``older_than_seconds`` ago."""
    return sa.and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.heartbeat_at < now - older_than_seconds)


class JobStore(StoreBase):
    """The jobs part of :class:`adu_core.store.Store`."""

    # ------------------------------------------------------------------ records

    def create_job(
        self,
        spec: JobSpec,
        *,
        created_by: str | None = None,
        password: str | None = None,
        status: JobStatus = JobStatus.QUEUED,
    ) -> str:
        """Record a new job; ``password`` is encrypted at rest until the job ends."""
        job_id = new_job_id()
        secret = None
        if password:
            if not self.secret_key:
                raise UsageError("a job with a password needs ADU_SECRET_KEY to encrypt it")
            secret = crypto.encrypt(self.secret_key, password)
        stored = spec.redacted()
        with self._tx() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    name=spec.name,
                    status=status.value,
                    spec=stored.to_json(),
                    source=stored.source,
                    target=spec.target,
                    created_by=created_by,
                    created_at=time.time(),
                    secret=secret,
                )
            )
        return job_id

    def get_job(self, job_id: str) -> JobRow:
        """The job ``job_id`` (or the one job whose id starts with it, 4 characters at least)."""
        if not isinstance(job_id, str) or not job_id.isalnum() or len(job_id) > 32:
            raise NotFound(f"no job {job_id!r}")
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if r is None:
            # accept a unique prefix, as git does, for the CLI
            with self.engine.connect() as conn:
                rs = conn.execute(sa.select(jobs).where(jobs.c.id.like(job_id + "%")).limit(2)).all()
            if len(rs) != 1 or len(job_id) < 4:
                raise NotFound(f"no job {job_id!r}")
            r = rs[0]
        return job_row(r)

    def list_jobs(self, *, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0) -> list[JobRow]:
        q = sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset)
        if status:
            q = q.where(jobs.c.status.in_(_statuses(status)))
        with self.engine.connect() as conn:
            return [job_row(r) for r in conn.execute(q)]

    def count_jobs(self, *, status: str | Sequence[str] | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(jobs)
        if status:
            q = q.where(jobs.c.status.in_(_statuses(status)))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def delete_job(self, job_id: str) -> None:
        with self._tx() as conn:
            for table in (events, job_partitions, job_tables):
                conn.execute(table.delete().where(table.c.job_id == job_id))
            conn.execute(jobs.delete().where(jobs.c.id == job_id))

    def job_secret(self, job_id: str) -> str | None:
        """The job's source password, decrypted (None when it has none or has ended)."""
        with self.engine.connect() as conn:
            token = conn.execute(sa.select(jobs.c.secret).where(jobs.c.id == job_id)).scalar()
        if token is None:
            return None
        if not self.secret_key:
            raise UsageError("this job's password is encrypted; set ADU_SECRET_KEY to run it")
        return crypto.decrypt(self.secret_key, token)

    # ------------------------------------------------------- claim, renew, reap

    def claim_job(self, worker_id: str, job_id: str | None = None) -> JobRow | None:
        """Atomically move the oldest queued job (or ``job_id``) to ``running`` for
        ``worker_id``; None when there is nothing to claim."""
        now = time.time()
        for _ in range(20):
            with self._tx() as conn:
                if job_id is None:
                    cand = conn.execute(
                        sa.select(jobs.c.id)
                        .where(jobs.c.status == JobStatus.QUEUED.value)
                        .order_by(jobs.c.created_at, jobs.c.id)
                        .limit(1)
                    ).scalar()
                else:
                    cand = job_id
                if cand is None:
                    return None
                res = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == cand, jobs.c.status == JobStatus.QUEUED.value)
                    .values(
                        status=JobStatus.RUNNING.value,
                        worker_id=worker_id,
                        started_at=now,
                        heartbeat_at=now,
                        finished_at=None,
                        attempt=jobs.c.attempt + 1,
                    )
                )
                claimed = res.rowcount == 1
            if claimed:
                return self.get_job(cand)
            if job_id is not None:
                return None
        return None

    def heartbeat(self, job_id: str, worker_id: str) -> bool:
        """Mark the job alive; False when it is no longer this worker's running job."""
        with self._tx() as conn:
            res = conn.execute(jobs.update().where(_owned(job_id, worker_id)).values(heartbeat_at=time.time()))
            return res.rowcount == 1

    def mark_stale(self, older_than_seconds: float) -> list[str]:
        """Running jobs not heard from for ``older_than_seconds`` become ``stale``."""
        now = time.time()
        with self._tx() as conn:
            ids = list(conn.execute(sa.select(jobs.c.id).where(_expired(now, older_than_seconds))).scalars())
            if ids:
                err = ErrorInfo(
                    message="the worker running this job stopped answering (killed or crashed)",
                    kind="StaleJob",
                ).to_dict()
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id.in_(ids), jobs.c.status == JobStatus.RUNNING.value)
                    .values(status=JobStatus.STALE.value, finished_at=time.time(), secret=None, error=json.dumps(err))
                )
                conn.execute(
                    job_tables.update()
                    .where(job_tables.c.job_id.in_(ids), job_tables.c.status.in_(["running", "pending"]))
                    .values(status=TableStatus.FAILED.value, error=json.dumps(err))
                )
        return ids

    # ------------------------------------------------------------ cancel, finish

    def request_cancel(self, job_id: str) -> JobRow:
        """Ask a job to stop; a queued job is cancelled at once."""
        job = self.get_job(job_id)
        if job.status.finished:
            raise UsageError(f"job {job.id} has already finished ({job.status.value})")
        with self._tx() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job.id).values(cancel_requested=True))
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job.id, jobs.c.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.CANCELLED.value, finished_at=time.time(), secret=None)
            )
        return self.get_job(job.id)

    def cancel_requested(self, job_id: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar())

    def finish_job(
        self,
        job_id: str,
        status: JobStatus,
        *,
        error: ErrorInfo | None = None,
        manifest_path: str | None = None,
    ) -> None:
        """Record the end of a job and erase its secret."""
        with self._tx() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(
                    status=status.value,
                    finished_at=time.time(),
                    secret=None,
                    error=json.dumps(error.to_dict()) if error else None,
                    manifest_path=manifest_path,
                    **table_totals(conn, job_id),
                )
            )

    def retry_job(self, job_id: str, *, password: str | None = None) -> JobRow:
        """Queue a finished job again, for its failed (or never finished) tables only."""
        job = self.get_job(job_id)
        if not job.status.finished:
            raise UsageError(f"job {job.id} is still {job.status.value}")
        if job.status == JobStatus.SUCCEEDED:
            raise UsageError(f"job {job.id} succeeded: nothing to retry")
        with self.engine.connect() as conn:
            tables = conn.execute(
                sa.select(job_tables.c.schema, job_tables.c.name, job_tables.c.status)
                .where(job_tables.c.job_id == job.id)
                .order_by(job_tables.c.id)
            ).all()
        failed = tuple(f"{t.schema}.{t.name}" for t in tables if t.status != TableStatus.SUCCEEDED.value)
        spec = attrs.evolve(job.spec, retry_tables=failed if tables else ())
        secret = crypto.encrypt(self.secret_key, password) if password and self.secret_key else None
        with self._tx() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job.id)
                .values(
                    status=JobStatus.QUEUED.value,
                    spec=spec.to_json(),
                    cancel_requested=False,
                    error=None,
                    finished_at=None,
                    secret=secret,
                )
            )
        return self.get_job(job.id)
