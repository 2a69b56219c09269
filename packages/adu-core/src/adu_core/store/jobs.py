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

from adu_core.errors import NotFound, UsageError
from adu_core.models import ErrorInfo, JobSpec, JobStatus, TableStatus
from adu_core.store import crypto
from adu_core.store.base import StoreBase
from adu_core.store.db import Connection, in_list
from adu_core.store.events import insert_events
from adu_core.store.progress import update_totals
from adu_core.store.records import JobEvent, JobRow, ReapedJob, loads

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


def _status_filter(status: str | Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """A ``WHERE status IN (…)`` clause and its parameters (nothing without ``status``)."""
    if not status:
        return "", {}
    names, params = in_list("status", _statuses(status))
    return f" WHERE status IN ({names})", params


#: the job ``:id`` is running and claimed by ``:worker_id`` (:func:`_owned` gives the parameters)
OWNED = "id = :id AND worker_id = :worker_id AND status = 'running'"


def _owned(job_id: str, worker_id: str) -> dict[str, Any]:
    """The parameters of :data:`OWNED`."""
    return {"id": job_id, "worker_id": worker_id}


#: the job is running and its lease ran out before ``:now`` (:func:`_expired` gives the parameters)
EXPIRED = (
    "status = 'running' AND (lease_expires_at < :now OR (lease_expires_at IS NULL AND heartbeat_at < :legacy_before))"
)


def _expired(now: float) -> dict[str, Any]:
    """The parameters of :data:`EXPIRED`."""
    return {"now": now, "legacy_before": now - LEGACY_LEASE_SECONDS}


def retry_spec(conn: Connection, job_id: str, spec: JobSpec, *, overwrite: bool = False) -> JobSpec:
    """The spec that completes job ``job_id``: its unfinished tables again, the tables it
    published kept (``retry``); with ``overwrite``, the whole export again from scratch."""
    if overwrite:
        return attrs.evolve(spec, overwrite=True, retry=False, retry_tables=())
    tables = conn.execute(
        "SELECT schema, name, status FROM job_tables WHERE job_id = :job_id ORDER BY id", {"job_id": job_id}
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
            if conn.execute("SELECT id FROM jobs WHERE id = :id", values).first() is None:
                columns = ", ".join(values)
                conn.execute(
                    f"INSERT INTO jobs ({columns}) VALUES ({', '.join(':' + c for c in values)})",
                    values,
                )

    def get_job(self, job_id: str) -> JobRow:
        """The job ``job_id`` (or the one job whose id starts with it, 4 characters at least)."""
        if not isinstance(job_id, str) or not job_id.isalnum() or len(job_id) > 32:
            raise NotFound(f"no job {job_id!r}")
        with self.db.read() as conn:
            r = conn.execute("SELECT * FROM jobs WHERE id = :id", {"id": job_id}).first()
        if r is None:
            # accept a unique prefix, as git does, for the CLI
            with self.db.read() as conn:
                rs = conn.execute("SELECT * FROM jobs WHERE id LIKE :prefix LIMIT 2", {"prefix": job_id + "%"}).all()
            if len(rs) != 1 or len(job_id) < 4:
                raise NotFound(f"no job {job_id!r}")
            r = rs[0]
        return job_row(r)

    def list_jobs(self, *, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0) -> list[JobRow]:
        where, params = _status_filter(status)
        sql = f"SELECT * FROM jobs{where} ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset"
        with self.db.read() as conn:
            return [job_row(r) for r in conn.execute(sql, {**params, "limit": limit, "offset": offset})]

    def count_jobs(self, *, status: str | Sequence[str] | None = None) -> int:
        where, params = _status_filter(status)
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT count(*) FROM jobs{where}", params).scalar_one())

    def delete_job(self, job_id: str) -> None:
        with self._tx() as conn:
            for table in ("events", "job_partitions", "job_tables"):
                conn.execute(f"DELETE FROM {table} WHERE job_id = :job_id", {"job_id": job_id})
            conn.execute("DELETE FROM jobs WHERE id = :job_id", {"job_id": job_id})

    def job_secret(self, job_id: str) -> str | None:
        """The job's source password, decrypted (None when it has none or has ended)."""
        with self.db.read() as conn:
            token = conn.execute("SELECT secret FROM jobs WHERE id = :id", {"id": job_id}).scalar()
        if token is None:
            return None
        if not self.secret_key:
            raise UsageError("this job's password is encrypted; set ADU_SECRET_KEY to run it")
        return crypto.decrypt(self.secret_key, bytes(token))  # PostgreSQL gives a memoryview

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
                        "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1"
                    ).scalar()
                else:
                    cand = job_id
                if cand is None:
                    return None
                res = conn.execute(
                    "UPDATE jobs SET status = 'running', worker_id = :worker_id, started_at = :now,"
                    " heartbeat_at = :now, lease_expires_at = :lease, foreground = :foreground,"
                    " finished_at = NULL, attempt = attempt + 1 WHERE id = :id AND status = 'queued'",
                    {
                        "id": cand,
                        "worker_id": worker_id,
                        "now": now,
                        "lease": now + lease_seconds,
                        "foreground": foreground,
                    },
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
                f"UPDATE jobs SET heartbeat_at = :now, lease_expires_at = :lease WHERE {OWNED}",
                {**_owned(job_id, worker_id), "now": now, "lease": now + lease_seconds},
            )
            conn.execute("UPDATE workers SET heartbeat_at = :now WHERE id = :id", {"now": now, "id": worker_id})
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
        with self.db.read() as conn:
            expired = conn.execute(f"SELECT id FROM jobs WHERE {EXPIRED} LIMIT 100", _expired(now)).scalars()
        if not expired:
            return []
        reaped: list[ReapedJob] = []
        ids, params = in_list("id", expired)
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT * FROM jobs WHERE id IN ({ids}) AND {EXPIRED}",
                {**params, **_expired(now)},
            ).all()
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
    def _requeue(conn: Connection, r: Any, max_attempts: int) -> None:
        spec = retry_spec(conn, r.id, JobSpec.from_json(r.spec))
        conn.execute(
            "UPDATE jobs SET status = 'queued', spec = :spec, worker_id = NULL, lease_expires_at = NULL,"
            " requeues = requeues + 1, error = NULL WHERE id = :id AND status = 'running'",
            {"id": r.id, "spec": spec.to_json()},
        )
        conn.execute(
            "UPDATE job_tables SET status = 'pending' WHERE job_id = :job_id AND status = 'running'",
            {"job_id": r.id},
        )
        message = (
            f"the worker running this job ({r.worker_id}) stopped answering (its lease expired); "
            f"queued again to complete it (run {r.requeues + 2} of {max_attempts})"
        )
        insert_events(conn, r.id, [JobEvent(level="WARNING", message=message, data={"action": "requeue"})])

    @staticmethod
    def _stale(conn: Connection, r: Any, now: float, max_attempts: int) -> None:
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
            "UPDATE jobs SET status = 'stale', finished_at = :now, secret = NULL, lease_expires_at = NULL,"
            " error = :error WHERE id = :id AND status = 'running'",
            {"id": r.id, "now": now, "error": err},
        )
        conn.execute(
            "UPDATE job_tables SET status = 'failed', error = :error"
            " WHERE job_id = :job_id AND status IN ('running', 'pending')",
            {"job_id": r.id, "error": err},
        )
        insert_events(conn, r.id, [JobEvent(level="ERROR", message=message, data={"action": "stale"})])
        update_totals(conn, r.id)

    # ------------------------------------------------------------ cancel, finish

    def request_cancel(self, job_id: str) -> JobRow:
        """Ask a job to stop: a queued or stale job is cancelled at once, a running one
        is asked to stop (its engine sees the request at its next heartbeat)."""
        job = self.get_job(job_id)
        if job.status.finished and job.status != JobStatus.STALE:
            raise UsageError(f"job {job.id} has already finished ({job.status.value})")
        with self._tx() as conn:
            conn.execute("UPDATE jobs SET cancel_requested = :yes WHERE id = :id", {"id": job.id, "yes": True})
            conn.execute(
                "UPDATE jobs SET status = 'cancelled', finished_at = :now, secret = NULL"
                " WHERE id = :id AND status IN ('queued', 'stale')",
                {"id": job.id, "now": time.time()},
            )
        return self.get_job(job.id)

    def cancel_requested(self, job_id: str) -> bool:
        with self.db.read() as conn:
            return bool(conn.execute("SELECT cancel_requested FROM jobs WHERE id = :id", {"id": job_id}).scalar())

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
        where = "" if worker_id is None else " AND worker_id = :worker_id AND status = 'running'"
        with self._tx() as conn:
            changed = update_totals(
                conn,
                job_id,
                ", status = :status, finished_at = :now, secret = NULL, lease_expires_at = NULL, error = :error,"
                " manifest_path = :manifest_path",
                {
                    "status": status.value,
                    "now": time.time(),
                    "error": json.dumps(error.to_dict()) if error else None,
                    "manifest_path": manifest_path,
                    "worker_id": worker_id,
                },
                where=where,
            )
            return changed == 1

    def requeue_job(self, job_id: str, worker_id: str, reason: str) -> bool:
        """Put this worker's running job back in the queue to be completed by another run
        (a worker shutting down); False when it is no longer this worker's."""
        with self._tx() as conn:
            r = conn.execute(f"SELECT * FROM jobs WHERE {OWNED}", _owned(job_id, worker_id)).first()
            if r is None:
                return False
            spec = retry_spec(conn, job_id, JobSpec.from_json(r.spec))
            conn.execute(
                "UPDATE jobs SET status = 'queued', spec = :spec, worker_id = NULL, lease_expires_at = NULL"
                f" WHERE {OWNED}",
                {**_owned(job_id, worker_id), "spec": spec.to_json()},
            )
            conn.execute(
                "UPDATE job_tables SET status = 'pending', error = NULL"
                " WHERE job_id = :job_id AND status IN ('running', 'cancelled')",
                {"job_id": job_id},
            )
            insert_events(conn, job_id, [JobEvent(level="WARNING", message=reason, data={"action": "requeue"})])
            update_totals(conn, job_id)
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
                "UPDATE jobs SET status = 'queued', spec = :spec, cancel_requested = :no, error = NULL,"
                " finished_at = NULL, requeues = 0, secret = :secret WHERE id = :id",
                {"id": job.id, "spec": spec.to_json(), "no": False, "secret": secret},
            )
        return self.get_job(job.id)
