"""The job store: jobs, tables, partitions, events and workers; web accounts are
:mod:`adu_core.store.accounts` (``store.accounts``).

SQLite by default (WAL mode and a busy timeout, so the web process and several workers
share it safely); PostgreSQL by URL for several hosts. The schema is migrated with Alembic
on open. All times are UNIX seconds (floats).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adu_core.errors import NotFound, UsageError
from adu_core.models import ErrorInfo, JobSpec, JobStatus, SourceInfo, TableInfo, TableStatus
from adu_core.secrets import redact_url
from adu_core.store import crypto
from adu_core.store.accounts import Accounts
from adu_core.store.schema import events, job_partitions, job_tables, jobs, workers


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


@attrs.frozen
class JobRow:
    """A job as the store holds it (never with its secret)."""

    id: str
    name: str | None
    status: JobStatus
    spec: JobSpec
    source: str
    target: str
    created_by: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    worker_id: str | None
    attempt: int
    cancel_requested: bool
    tables_total: int
    tables_done: int
    tables_failed: int
    rows: int
    bytes: int
    rows_estimate: int | None
    error: dict[str, Any] | None
    source_info: dict[str, Any] | None
    manifest_path: str | None
    has_secret: bool

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    @property
    def rows_per_second(self) -> float | None:
        d = self.duration
        return self.rows / d if d and d > 0 else None

    @property
    def progress(self) -> float | None:
        """0..1 from rows against the source's estimate, or tables done."""
        if self.status == JobStatus.SUCCEEDED:
            return 1.0
        if self.rows_estimate:
            return min(1.0, self.rows / self.rows_estimate)
        if self.tables_total:
            return self.tables_done / self.tables_total
        return None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in attrs.fields(JobRow)}
        data["status"] = self.status.value
        data["spec"] = self.spec.to_dict()
        data["duration"] = self.duration
        data["rows_per_second"] = self.rows_per_second
        data["progress"] = self.progress
        return data


@attrs.frozen
class TableRow:
    id: int
    job_id: str
    schema: str
    name: str
    status: TableStatus
    rows: int
    bytes: int
    rows_estimate: int | None
    partitions_total: int
    partitions_done: int
    started_at: float | None
    finished_at: float | None
    error: dict[str, Any] | None
    validation: dict[str, Any] | None
    files: list[dict[str, Any]] | None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in attrs.fields(TableRow)}
        data["status"] = self.status.value
        data["duration"] = self.duration
        return data


@attrs.frozen
class EventRow:
    id: int
    job_id: str | None
    ts: float
    level: str
    table: str | None
    message: str
    data: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(EventRow)}


def new_job_id() -> str:
    return uuid.uuid4().hex


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Store:
    """Access to the job store.

    :param url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    """

    def __init__(self, url: str, *, secret_key: str | None = None, migrate: bool = True) -> None:
        self.url = url
        self.secret_key = secret_key
        self.engine = self._make_engine(url)
        #: web accounts (:mod:`adu_core.store.accounts`)
        self.accounts = Accounts(self.engine, self._tx)
        if migrate:
            self.migrate()

    @classmethod
    def from_settings(cls, settings: Any) -> Store:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings.store_url, secret_key=settings.secret_key)

    @staticmethod
    def _make_engine(url: str) -> Engine:
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError:
            raise UsageError(f"ADU_STORE_URL is not a database URL: {redact_url(url)!r}") from None
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
            engine = sa.create_engine(
                url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=sa.pool.NullPool
            )

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                # autocommit at the driver level; SQLAlchemy emits BEGIN itself (see below)
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                # writers take the write lock at the start, so concurrent claims serialize
                # cleanly instead of failing on a lock upgrade; readers never block
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("adu_write") else "BEGIN")

            return engine
        return sa.create_engine(url, pool_pre_ping=True)

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (a no-op when it is there)."""
        from adu_core.migrations import HEAD_REVISION

        try:
            with self.engine.connect() as conn:
                current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sa.exc.DBAPIError:
            current = None  # a new store
        if current == HEAD_REVISION:
            return  # every CLI call opens the store: skip Alembic's start-up when up to date
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", "adu_core:migrations")
        with self._tx() as conn:  # the write lock: concurrent starts migrate once
            if conn.dialect.name == "postgresql":
                # SQLite's BEGIN IMMEDIATE serializes; PostgreSQL needs an explicit lock
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction."""
        with self.engine.connect() as conn:
            conn.info["adu_write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("adu_write", None)

    # ------------------------------------------------------------------ jobs

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

    def _job_row(self, r: Any) -> JobRow:
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
            error=_loads(r.error),
            source_info=_loads(r.source_info),
            manifest_path=r.manifest_path,
            has_secret=r.secret is not None,
        )

    def get_job(self, job_id: str) -> JobRow:
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
        return self._job_row(r)

    def list_jobs(self, *, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0) -> list[JobRow]:
        q = sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit).offset(offset)
        if status:
            q = q.where(jobs.c.status.in_([status] if isinstance(status, str) else list(status)))
        with self.engine.connect() as conn:
            return [self._job_row(r) for r in conn.execute(q)]

    def count_jobs(self, *, status: str | Sequence[str] | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(jobs)
        if status:
            q = q.where(jobs.c.status.in_([status] if isinstance(status, str) else list(status)))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

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
            res = conn.execute(
                jobs.update()
                .where(
                    jobs.c.id == job_id,
                    jobs.c.worker_id == worker_id,
                    jobs.c.status == JobStatus.RUNNING.value,
                )
                .values(heartbeat_at=time.time())
            )
            return res.rowcount == 1

    def mark_stale(self, older_than_seconds: float) -> list[str]:
        """Running jobs not heard from for ``older_than_seconds`` become ``stale``."""
        limit = time.time() - older_than_seconds
        with self._tx() as conn:
            ids = list(
                conn.execute(
                    sa.select(jobs.c.id).where(jobs.c.status == JobStatus.RUNNING.value, jobs.c.heartbeat_at < limit)
                ).scalars()
            )
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

    def job_secret(self, job_id: str) -> str | None:
        with self.engine.connect() as conn:
            token = conn.execute(sa.select(jobs.c.secret).where(jobs.c.id == job_id)).scalar()
        if token is None:
            return None
        if not self.secret_key:
            raise UsageError("this job's password is encrypted; set ADU_SECRET_KEY to run it")
        return crypto.decrypt(self.secret_key, token)

    def set_job_plan(self, job_id: str, source: SourceInfo, plan: Sequence[tuple[TableInfo, int]]) -> None:
        """Record the tables a job will export (with their partition counts)."""
        with self._tx() as conn:
            existing = {
                (r.schema, r.name): r.id
                for r in conn.execute(
                    sa.select(job_tables.c.id, job_tables.c.schema, job_tables.c.name).where(
                        job_tables.c.job_id == job_id
                    )
                )
            }
            estimate = 0
            for table, n_parts in plan:
                estimate += table.row_estimate or 0
                values = dict(
                    status=TableStatus.PENDING.value,
                    rows=0,
                    bytes=0,
                    rows_estimate=table.row_estimate,
                    partitions_total=n_parts,
                    partitions_done=0,
                    started_at=None,
                    finished_at=None,
                    error=None,
                    validation=None,
                    files=None,
                )
                key = (table.schema, table.name)
                if key in existing:
                    conn.execute(job_tables.update().where(job_tables.c.id == existing[key]).values(**values))
                else:
                    conn.execute(
                        job_tables.insert().values(job_id=job_id, schema=table.schema, name=table.name, **values)
                    )
            totals = self._table_totals(conn, job_id)
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(source_info=json.dumps(source.to_dict()), rows_estimate=estimate or None, **totals)
            )

    @staticmethod
    def _table_totals(conn: Connection, job_id: str) -> dict[str, int]:
        rows = conn.execute(
            sa.select(job_tables.c.status, job_tables.c.rows, job_tables.c.bytes).where(job_tables.c.job_id == job_id)
        ).all()
        done = sum(1 for r in rows if r.status == TableStatus.SUCCEEDED.value)
        failed = sum(1 for r in rows if r.status in (TableStatus.FAILED.value, TableStatus.CANCELLED.value))
        return {
            "tables_total": len(rows),
            "tables_done": done,
            "tables_failed": failed,
            "rows": sum(r.rows for r in rows),
            "bytes": sum(r.bytes for r in rows),
        }

    def update_table(self, job_id: str, schema: str, name: str, **fields: Any) -> None:
        """Update a table's row: status, rows, bytes, partitions_done, started_at,
        finished_at, error (ErrorInfo or dict), validation (dict), files (list)."""
        self.record_batch(job_id, tables={(schema, name): fields})

    def record_batch(
        self,
        job_id: str | None,
        *,
        tables: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
        partitions: Sequence[Mapping[str, Any]] = (),
        log_events: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Apply many table updates, partition records and events in one transaction.

        The engine buffers what happens between two progress ticks and writes it here, so a
        job of hundreds of small tables costs a few commits, not thousands.

        :param tables: ``{(schema, name): fields}`` as for :meth:`update_table`.
        :param partitions: keyword arguments of :meth:`record_partition` plus ``schema``,
            ``name`` and ``index``.
        :param log_events: keyword arguments of :meth:`add_event` plus ``level`` and ``message``.
        """
        from adu_core.secrets import redact_text

        with self._tx() as conn:
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for (schema, name), fields in (tables or {}).items():
                values = self._table_values(fields)
                if values:
                    groups.setdefault(tuple(sorted(values)), []).append(
                        {"b_schema": schema, "b_name": name, **{f"v_{k}": v for k, v in values.items()}}
                    )
            for keys, rows in groups.items():  # one executemany per shape of update
                conn.execute(
                    job_tables.update()
                    .where(
                        job_tables.c.job_id == job_id,
                        job_tables.c.schema == sa.bindparam("b_schema"),
                        job_tables.c.name == sa.bindparam("b_name"),
                    )
                    .values({k: sa.bindparam(f"v_{k}") for k in keys}),
                    rows,
                )
            if partitions:
                ids = {
                    (r.schema, r.name): r.id
                    for r in conn.execute(
                        sa.select(job_tables.c.id, job_tables.c.schema, job_tables.c.name).where(
                            job_tables.c.job_id == job_id
                        )
                    )
                }
                for part in partitions:
                    table_id = ids.get((part["schema"], part["name"]))
                    if table_id is None:
                        continue
                    conn.execute(
                        job_partitions.delete().where(
                            job_partitions.c.table_id == table_id, job_partitions.c.idx == part["index"]
                        )
                    )
                    error = part.get("error")
                    conn.execute(
                        job_partitions.insert().values(
                            job_id=job_id,
                            table_id=table_id,
                            idx=part["index"],
                            status=part["status"],
                            rows=part.get("rows", 0),
                            attempts=part.get("attempts", 1),
                            spec=json.dumps(part["spec"], default=str) if part.get("spec") else None,
                            error=json.dumps(error.to_dict()) if error is not None else None,
                        )
                    )
            for ev in log_events:
                data = ev.get("data")
                conn.execute(
                    events.insert().values(
                        job_id=job_id,
                        ts=ev.get("ts", time.time()),
                        level=str(ev["level"]).upper(),
                        table_name=ev.get("table"),
                        message=redact_text(ev["message"]),
                        data=redact_text(json.dumps(data, default=str)) if data else None,
                    )
                )
            if job_id is not None and (tables or partitions):
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(**self._table_totals(conn, job_id)))

    @staticmethod
    def _table_values(fields: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "status" and value is not None:
                value = TableStatus(value).value
            elif key in ("error", "validation", "files") and value is not None:
                if hasattr(value, "to_dict"):
                    value = value.to_dict()
                value = json.dumps(value, default=str)
            values[key] = value
        return values

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
                    **self._table_totals(conn, job_id),
                )
            )

    def retry_job(self, job_id: str, *, password: str | None = None) -> JobRow:
        """Queue a finished job again, for its failed (or never finished) tables only."""
        job = self.get_job(job_id)
        if not job.status.finished:
            raise UsageError(f"job {job.id} is still {job.status.value}")
        if job.status == JobStatus.SUCCEEDED:
            raise UsageError(f"job {job.id} succeeded: nothing to retry")
        tables = self.list_tables(job.id)
        failed = tuple(t.qualified_name for t in tables if t.status != TableStatus.SUCCEEDED)
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

    def delete_job(self, job_id: str) -> None:
        with self._tx() as conn:
            for table in (events, job_partitions, job_tables):
                conn.execute(table.delete().where(table.c.job_id == job_id))
            conn.execute(jobs.delete().where(jobs.c.id == job_id))

    # ---------------------------------------------------------------- tables

    def list_tables(self, job_id: str) -> list[TableRow]:
        with self.engine.connect() as conn:
            rs = conn.execute(
                sa.select(job_tables).where(job_tables.c.job_id == job_id).order_by(job_tables.c.id)
            ).all()
        return [
            TableRow(
                id=r.id,
                job_id=r.job_id,
                schema=r.schema,
                name=r.name,
                status=TableStatus(r.status),
                rows=r.rows,
                bytes=r.bytes,
                rows_estimate=r.rows_estimate,
                partitions_total=r.partitions_total,
                partitions_done=r.partitions_done,
                started_at=r.started_at,
                finished_at=r.finished_at,
                error=_loads(r.error),
                validation=_loads(r.validation),
                files=_loads(r.files),
            )
            for r in rs
        ]

    def record_partition(
        self,
        job_id: str,
        schema: str,
        name: str,
        index: int,
        *,
        status: str,
        rows: int = 0,
        attempts: int = 1,
        spec: Mapping[str, Any] | None = None,
        error: ErrorInfo | None = None,
    ) -> None:
        self.record_batch(
            job_id,
            partitions=[
                dict(
                    schema=schema,
                    name=name,
                    index=index,
                    status=status,
                    rows=rows,
                    attempts=attempts,
                    spec=spec,
                    error=error,
                )
            ],
        )

    def list_partitions(self, job_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rs = conn.execute(
                sa.select(job_partitions, job_tables.c.schema, job_tables.c.name)
                .join(job_tables, job_tables.c.id == job_partitions.c.table_id)
                .where(job_partitions.c.job_id == job_id)
                .order_by(job_partitions.c.table_id, job_partitions.c.idx)
            ).all()
        return [
            {
                "table": f"{r.schema}.{r.name}",
                "index": r.idx,
                "status": r.status,
                "rows": r.rows,
                "attempts": r.attempts,
                "spec": _loads(r.spec),
                "error": _loads(r.error),
            }
            for r in rs
        ]

    # ---------------------------------------------------------------- events

    def add_event(
        self,
        job_id: str | None,
        level: str,
        message: str,
        *,
        table: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.record_batch(job_id, log_events=[dict(level=level, message=message, table=table, data=data)])

    def list_events(self, job_id: str, *, limit: int = 200) -> list[EventRow]:
        with self.engine.connect() as conn:
            rs = conn.execute(
                sa.select(events).where(events.c.job_id == job_id).order_by(events.c.id).limit(limit)
            ).all()
        return [EventRow(r.id, r.job_id, r.ts, r.level, r.table_name, r.message, _loads(r.data)) for r in rs]

    # --------------------------------------------------------------- workers

    def register_worker(self, worker_id: str) -> None:
        now = time.time()
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.id == worker_id))
            conn.execute(
                workers.insert().values(
                    id=worker_id, host=socket.gethostname(), pid=os.getpid(), started_at=now, heartbeat_at=now
                )
            )

    def worker_heartbeat(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute(workers.update().where(workers.c.id == worker_id).values(heartbeat_at=time.time()))

    def unregister_worker(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.id == worker_id))

    def list_workers(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(workers).order_by(workers.c.started_at))]
