"""Jobs in the store: their life cycle from queued to finished, and their secret.

A job moves ``queued -> running -> succeeded | partial | failed | cancelled``; ``stale``
when the process running it died and nobody will run it again by itself. While it runs
it belongs to the process that claimed it, under a *lease*:

* :meth:`JobStore.claim_job` hands a queued job to one process, atomically, with a lease
  of ``lease_seconds`` (``ADU_STALE_SECONDS``);
* :meth:`JobStore.heartbeat` renews the lease (False once the job is no longer that
  process's: reaped, cancelled or finished elsewhere), and the engine stops a job it lost;
* :meth:`JobStore.reap_expired` takes back the running jobs whose lease ran out (any ADU
  process does it when it opens the store, see :mod:`adu_core.reaper`): a worker's job
  goes back to the queue (up to ``ADU_JOB_ATTEMPTS`` runs), a foreground ``adu export``'s
  becomes ``stale`` with the next step in its error;
* :meth:`JobStore.finish_job`, :meth:`JobStore.requeue_job` and the engine's progress
  writes only change a job its caller still owns.

All of these are written against :func:`_owned` and :func:`_expired`, the one definition
of "this process's running job" and "a lease nobody renewed".
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
from adu_core.store.events import insert_events
from adu_core.store.progress import table_totals
from adu_core.store.records import JobEvent, JobRow, ReapedJob, loads
from adu_core.store.schema import events, job_partitions, job_tables, jobs, workers

#: the lease of a job claimed before leases were recorded: this long after its heartbeat
LEGACY_LEASE_SECONDS = 60.0


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
        kind=r.kind,
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
        lease_expires_at=r.lease_expires_at,
        foreground=bool(r.foreground),
        requeues=r.requeues,
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


def _expired(now: float) -> sa.ColumnElement[bool]:
    """The job is running and its lease ran out before ``now``."""
    return sa.and_(
        jobs.c.status == JobStatus.RUNNING.value,
        sa.or_(
            jobs.c.lease_expires_at < now,
            sa.and_(jobs.c.lease_expires_at.is_(None), jobs.c.heartbeat_at < now - LEGACY_LEASE_SECONDS),
        ),
    )


def retry_spec(conn: Any, job_id: str, spec: JobSpec, *, overwrite: bool = False) -> JobSpec:
    """The spec that completes job ``job_id``: its unfinished tables again, the tables it
    published kept (``retry``); with ``overwrite``, the whole export again from scratch."""
    if overwrite:
        return attrs.evolve(spec, overwrite=True, retry=False, retry_tables=())
    tables = conn.execute(
        sa.select(job_tables.c.schema, job_tables.c.name, job_tables.c.status)
        .where(job_tables.c.job_id == job_id)
        .order_by(job_tables.c.id)
    ).all()
    unfinished = tuple(f"{t.schema}.{t.name}" for t in tables if t.status != TableStatus.SUCCEEDED.value)
    # no tables recorded: the earlier attempt stopped while planning, nothing was published
    return attrs.evolve(spec, retry_tables=unfinished, retry=bool(tables))


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
        self._insert_job(
            dict(
                id=job_id,
                name=spec.name,
                kind=spec.kind,
                status=status.value,
                spec=stored.to_json(),
                source=stored.source,
                target=stored.target,
                created_by=created_by,
                created_at=time.time(),
                secret=secret,
            )
        )
        return job_id

    def _insert_job(self, values: dict[str, Any]) -> None:
        """Insert the job once (a call retried after an outage finds it there)."""
        with self._tx() as conn:
            if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == values["id"])).first() is None:
                conn.execute(jobs.insert().values(**values))

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

    def claim_job(
        self,
        worker_id: str,
        job_id: str | None = None,
        *,
        lease_seconds: float = LEGACY_LEASE_SECONDS,
        foreground: bool = False,
    ) -> JobRow | None:
        """Atomically move the oldest queued job (or ``job_id``) to ``running`` for
        ``worker_id``, with a lease of ``lease_seconds``; None when there is nothing to claim.

        :param foreground: the claiming process is the one that submitted the job (``adu
            export``): when it dies, nobody else runs the job by itself (it becomes stale).
        """
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
                        lease_expires_at=now + lease_seconds,
                        foreground=foreground,
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

    def heartbeat(self, job_id: str, worker_id: str, *, lease_seconds: float = LEGACY_LEASE_SECONDS) -> bool:
        """Renew the job's lease for ``lease_seconds``; False when it is no longer this
        worker's running job (a lease that ran out but was not reaped yet is renewed). A
        registered worker of that name is heard from too (it is busy, not gone)."""
        now = time.time()
        with self._tx() as conn:
            res = conn.execute(
                jobs.update()
                .where(_owned(job_id, worker_id))
                .values(heartbeat_at=now, lease_expires_at=now + lease_seconds)
            )
            conn.execute(workers.update().where(workers.c.id == worker_id).values(heartbeat_at=now))
            return res.rowcount == 1

    def reap_expired(self, *, max_attempts: int = 3) -> list[ReapedJob]:
        """Take back every running job whose lease ran out.

        A worker's job is queued again to complete its export (a retry of its unfinished
        tables) while it has had fewer than ``max_attempts`` runs since it was submitted or
        retried; otherwise, and always for a foreground job (its ``adu export`` died), it
        becomes ``stale`` with the next step in its error. Cheap when nothing expired: one
        read, no write lock.
        """
        now = time.time()
        with self.engine.connect() as conn:
            expired = conn.execute(sa.select(jobs.c.id).where(_expired(now)).limit(100)).scalars().all()
        if not expired:
            return []
        reaped: list[ReapedJob] = []
        with self._tx() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.id.in_(expired), _expired(now))).all()
            for r in rows:
                requeue = not r.foreground and r.requeues + 1 < max_attempts
                if requeue:
                    self._requeue(conn, r, max_attempts)
                else:
                    self._stale(conn, r, now, max_attempts)
                spec = JobSpec.from_json(r.spec)
                reaped.append(ReapedJob(r.id, r.target, spec.sink, dict(spec.sink_options), requeue, r.worker_id))
        return reaped

    @staticmethod
    def _requeue(conn: Any, r: Any, max_attempts: int) -> None:
        spec = retry_spec(conn, r.id, JobSpec.from_json(r.spec))
        conn.execute(
            jobs.update()
            .where(jobs.c.id == r.id, jobs.c.status == JobStatus.RUNNING.value)
            .values(
                status=JobStatus.QUEUED.value,
                spec=spec.to_json(),
                worker_id=None,
                lease_expires_at=None,
                requeues=jobs.c.requeues + 1,
                error=None,
            )
        )
        conn.execute(
            job_tables.update()
            .where(job_tables.c.job_id == r.id, job_tables.c.status == TableStatus.RUNNING.value)
            .values(status=TableStatus.PENDING.value)
        )
        message = (
            f"the worker running this job ({r.worker_id}) stopped answering (its lease expired); "
            f"queued again to complete it (run {r.requeues + 2} of {max_attempts})"
        )
        insert_events(conn, r.id, [JobEvent(level="WARNING", message=message, data={"action": "requeue"})])

    @staticmethod
    def _stale(conn: Any, r: Any, now: float, max_attempts: int) -> None:
        if r.foreground:
            message = (
                f"the process running this job ({r.worker_id}) stopped without finishing it (killed or crashed); "
                f"`adu jobs retry {r.id}` completes the export"
            )
        else:
            message = (
                f"the worker running this job stopped answering {max_attempts} time(s); "
                f"`adu jobs retry {r.id}` runs it again"
            )
        err = json.dumps(ErrorInfo(message=message, kind="StaleJob").to_dict())
        conn.execute(
            jobs.update()
            .where(jobs.c.id == r.id, jobs.c.status == JobStatus.RUNNING.value)
            .values(status=JobStatus.STALE.value, finished_at=now, secret=None, lease_expires_at=None, error=err)
        )
        conn.execute(
            job_tables.update()
            .where(job_tables.c.job_id == r.id, job_tables.c.status.in_(["running", "pending"]))
            .values(status=TableStatus.FAILED.value, error=err)
        )
        insert_events(conn, r.id, [JobEvent(level="ERROR", message=message, data={"action": "stale"})])
        conn.execute(jobs.update().where(jobs.c.id == r.id).values(**table_totals(conn, r.id)))

    # ------------------------------------------------------------ cancel, finish

    def request_cancel(self, job_id: str) -> JobRow:
        """Ask a job to stop: a queued or stale job is cancelled at once, a running one
        is asked to stop (its engine sees the request at its next heartbeat)."""
        job = self.get_job(job_id)
        if job.status.finished and job.status != JobStatus.STALE:
            raise UsageError(f"job {job.id} has already finished ({job.status.value})")
        with self._tx() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job.id).values(cancel_requested=True))
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job.id, jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.STALE.value]))
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
        worker_id: str | None = None,
    ) -> bool:
        """Record the end of a job and erase its secret.

        :param worker_id: the claim of the caller: the job is only changed while it is
            still that claim's running job (False otherwise: it was reaped or taken over).
        """
        cond = jobs.c.id == job_id if worker_id is None else _owned(job_id, worker_id)
        with self._tx() as conn:
            res = conn.execute(
                jobs.update()
                .where(cond)
                .values(
                    status=status.value,
                    finished_at=time.time(),
                    secret=None,
                    lease_expires_at=None,
                    error=json.dumps(error.to_dict()) if error else None,
                    manifest_path=manifest_path,
                    **table_totals(conn, job_id),
                )
            )
            return res.rowcount == 1

    def requeue_job(self, job_id: str, worker_id: str, reason: str) -> bool:
        """Put this worker's running job back in the queue to be completed by another run
        (a worker shutting down); False when it is no longer this worker's."""
        with self._tx() as conn:
            r = conn.execute(sa.select(jobs).where(_owned(job_id, worker_id))).first()
            if r is None:
                return False
            spec = retry_spec(conn, job_id, JobSpec.from_json(r.spec))
            conn.execute(
                jobs.update()
                .where(_owned(job_id, worker_id))
                .values(status=JobStatus.QUEUED.value, spec=spec.to_json(), worker_id=None, lease_expires_at=None)
            )
            conn.execute(
                job_tables.update()
                .where(job_tables.c.job_id == job_id, job_tables.c.status.in_(["running", "cancelled"]))
                .values(status=TableStatus.PENDING.value, error=None)
            )
            insert_events(conn, job_id, [JobEvent(level="WARNING", message=reason, data={"action": "requeue"})])
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**table_totals(conn, job_id)))
        return True

    def retry_job(self, job_id: str, *, password: str | None = None, overwrite: bool = False) -> JobRow:
        """Queue a finished job again to complete its export: its failed (or never
        finished) tables run again, the published ones are kept and the manifest is
        written for all of them. ``overwrite``: export everything again instead."""
        job = self.get_job(job_id)
        if not job.status.finished:
            raise UsageError(f"job {job.id} is still {job.status.value}")
        if job.status == JobStatus.SUCCEEDED and not overwrite:
            raise UsageError(f"job {job.id} succeeded: nothing to retry")
        secret = crypto.encrypt(self.secret_key, password) if password and self.secret_key else None
        with self._tx() as conn:
            spec = retry_spec(conn, job.id, job.spec, overwrite=overwrite)
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job.id)
                .values(
                    status=JobStatus.QUEUED.value,
                    spec=spec.to_json(),
                    cancel_requested=False,
                    error=None,
                    finished_at=None,
                    requeues=0,
                    secret=secret,
                )
            )
        return self.get_job(job.id)
