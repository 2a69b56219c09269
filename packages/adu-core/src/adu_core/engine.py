"""The job engine: plan (discover, select, partition) and run.

:func:`run_job` runs one claimed job of the store in this process: it discovers the
tables, holds the source's snapshot, runs every partition on an executor (a process pool
or the threads of this process, see :func:`choose_executor`) where batches stream
source -> validators -> sink, publishes each table when all its partitions are done, writes
the manifest last and records everything in the store.

Memory stays bounded by ``batch_rows x parallel``: a worker holds one batch at a time.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import logging
import multiprocessing
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from adu_core import config as config_mod
from adu_core.connections import resolve_source
from adu_core.errors import Cancelled, SourceError, UsageError
from adu_core.logs import job_logging, job_thread
from adu_core.models import (
    ErrorInfo,
    JobResult,
    JobSpec,
    JobStatus,
    Partition,
    PartitionResult,
    SourceInfo,
    TableInfo,
    TableResult,
    TableStatus,
    ValidationReport,
)
from adu_core.planning import plan_tables, reader_options
from adu_core.plugin.components import (
    FAILED_CHECKS_COLUMN,
    CancelToken,
    PartitionWriter,
    Sink,
    Source,
    TableValidator,
)
from adu_core.plugin.manager import Plugins, get_plugins
from adu_core.secrets import redact_text, redact_url, remember_secret
from adu_core.store import Store

log = logging.getLogger("adu.engine")

#: attempts per partition for retryable source errors (dropped connection, restart).
MAX_ATTEMPTS = 3
#: seconds between progress writes to the store.
PROGRESS_INTERVAL = 1.0
#: seconds between a worker's progress messages.
WORKER_PROGRESS_INTERVAL = 0.25


@attrs.frozen
class Progress:
    """A snapshot of a running job, for live displays."""

    tables_total: int
    tables_done: int
    tables_failed: int
    rows: int
    bytes: int
    rows_estimate: int | None
    elapsed: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if not self.rows_estimate or not self.rows or self.rows >= self.rows_estimate:
            return None
        return (self.rows_estimate - self.rows) / max(self.rows_per_second, 1e-9)


ProgressCallback = Callable[[Progress], None]


# ---------------------------------------------------------------------------- errors


def error_info(exc: BaseException, **context: Any) -> ErrorInfo:
    """An :class:`ErrorInfo` for ``exc``: one-line message, redacted traceback, context."""
    message = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    tb = redact_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return ErrorInfo(
        message=message,
        kind=type(exc).__name__,
        traceback=tb,
        context={k: v for k, v in context.items() if v is not None},
        sqlstate=getattr(exc, "sqlstate", None),
    )


# ----------------------------------------------------------------------- worker side


@attrs.frozen
class PartitionTask:
    """Everything a worker needs for one partition (pickled into the worker)."""

    job_id: str
    source_url: str  # with password: memory only, never stored or logged
    source_options: Mapping[str, Any]
    sink_name: str
    target: str
    sink_options: Mapping[str, Any]
    partition: Partition
    snapshot: Mapping[str, Any]
    batch_rows: int
    validators: tuple[TableValidator, ...]


@attrs.define
class _Caches:
    """The sources (with their open connections) and sinks a worker reuses across the
    partitions it runs: one per pool process, or one per thread of a threaded job."""

    sources: dict[Any, Source] = attrs.field(factory=dict)
    sinks: dict[Any, Sink] = attrs.field(factory=dict)

    def close(self) -> None:
        _quiet_close(self.sources)
        self.sinks.clear()


class _ThreadCaches:
    """One :class:`_Caches` per thread of a threaded job; all closed when the job ends."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[_Caches] = []
        self._lock = threading.Lock()

    def get(self) -> _Caches:
        caches: _Caches | None = getattr(self._local, "caches", None)
        if caches is None:
            caches = self._local.caches = _Caches()
            with self._lock:
                self._all.append(caches)
        return caches

    def close(self) -> None:
        with self._lock:
            for caches in self._all:
                caches.close()
            self._all.clear()


class _WorkerState:
    cancel: CancelToken | None = None
    progress: Any = None
    caches: _Caches = _Caches()
    log_stack: ExitStack | None = None  # keeps the job log open for the process's life


def _worker_init(
    cancel: CancelToken, progress: Any, job_id: str, log_path: str | None, level: str, secrets: Sequence[str]
) -> None:
    """Pool initializer: the shared cancel flag and progress queue, the job's log file."""
    _WorkerState.cancel = cancel
    _WorkerState.progress = progress
    _WorkerState.caches = _Caches()
    remember_secret(*secrets)
    if log_path:
        stack = ExitStack()
        stack.enter_context(job_logging(Path(log_path), job_id, level, whole_process=True))
        _WorkerState.log_stack = stack


def _worker_source(task: PartitionTask, cache: dict[Any, Source]) -> Source:
    key = (task.source_url, repr(sorted(task.source_options.items())))
    src = cache.get(key)
    if src is None:
        src = get_plugins().open_source(task.source_url, dict(task.source_options))
        cache[key] = src
    return src


def _worker_sink(task: PartitionTask, cache: dict[Any, Sink]) -> Sink:
    key = (task.sink_name, task.target, task.job_id)
    sink = cache.get(key)
    if sink is None:
        cls = get_plugins().sink_class(task.sink_name)
        sink = cls(task.target, dict(task.sink_options), job_id=task.job_id)
        cache[key] = sink
    return sink


def _quiet_close(cache: dict[Any, Source]) -> None:
    for src in cache.values():
        _quiet(src.close)
    cache.clear()


def _combine(verdicts: Sequence[Any], n: int) -> tuple[pa.Array | None, pa.Array | None]:
    """OR the failure masks of several validators; concatenate their reasons."""
    masks = [v.failed for v in verdicts if v.failed is not None]
    if not masks:
        return None, None
    failed = masks[0]
    for m in masks[1:]:
        failed = pc.or_(failed, m)
    reasons_list = [v.reasons for v in verdicts if v.reasons is not None]
    if not reasons_list:
        reasons = pa.array([[] for _ in range(n)], type=pa.list_(pa.string()))
    elif len(reasons_list) == 1:
        reasons = reasons_list[0]
    else:
        py = [[name for r in reasons_list for name in (r[i].as_py() or [])] for i in range(n)]
        reasons = pa.array(py, type=pa.list_(pa.string()))
    return failed, reasons


def run_partition(
    task: PartitionTask, cancel: CancelToken | None = None, progress: Any = None, caches: _ThreadCaches | None = None
) -> PartitionResult:
    """Worker: read one partition, validate, write; retry retryable source errors.

    In a pool process ``cancel`` and ``progress`` come from the pool initializer; in a
    thread they are passed in, with the job's per-thread ``caches`` (sources and sinks
    are never shared between threads; without ``caches`` they last one partition).
    """
    if cancel is not None:
        with job_thread(task.job_id):  # the thread's records go to the job's log
            return _run_partition(task, cancel, progress, caches.get() if caches else None)
    return _run_partition(task, _WorkerState.cancel, _WorkerState.progress, _WorkerState.caches)


def _run_partition(
    task: PartitionTask, cancel: CancelToken | None, progress: Any, caches: _Caches | None
) -> PartitionResult:
    part = task.partition
    table = part.table.qualified_name
    own = caches is None
    cache = _Caches() if caches is None else caches
    if cancel is None or progress is None:
        raise RuntimeError("run_partition needs the engine's pool initializer")
    logger = logging.LoggerAdapter(log, {"job_id": task.job_id, "table": table})
    try:
        attempt = 0
        while True:
            attempt += 1
            writer: PartitionWriter | None = None
            qwriter: PartitionWriter | None = None
            validators = [_fresh(v) for v in task.validators]
            quarantine = any(v.mode == "quarantine" for v in validators)
            rows = nbytes = 0
            last = 0.0
            try:
                if cancel.is_set():
                    raise Cancelled("cancelled")
                source = _worker_source(task, cache.sources)
                sink = _worker_sink(task, cache.sinks)
                writer = sink.open_partition(part, attempt=attempt)
                for batch in source.read(part, snapshot=task.snapshot, batch_rows=task.batch_rows, cancel=cancel):
                    if cancel.is_set():
                        raise Cancelled("cancelled")
                    if batch.num_rows == 0:
                        continue
                    if validators:
                        failed, reasons = _combine([v.validate(batch) for v in validators], batch.num_rows)
                        if quarantine and failed is not None and reasons is not None and pc.any(failed).as_py():
                            bad = batch.filter(failed).append_column(FAILED_CHECKS_COLUMN, reasons.filter(failed))
                            if qwriter is None:
                                qwriter = sink.open_partition(part, attempt=attempt, quarantine=True)
                            qwriter.write(bad)
                            batch = batch.filter(pc.invert(failed))
                    nbytes = writer.write(batch)
                    rows += batch.num_rows
                    now = time.monotonic()
                    if now - last >= WORKER_PROGRESS_INTERVAL:
                        last = now
                        progress.put((table, part.index, rows, nbytes))
                files = writer.close()
                writer = None
                qfiles = qwriter.close() if qwriter is not None else []
                qwriter = None
                total_bytes = sum(f.bytes for f in files)
                progress.put((table, part.index, rows, total_bytes))
                return PartitionResult(
                    table=table,
                    index=part.index,
                    rows=rows + sum(f.rows for f in qfiles),
                    bytes=total_bytes,
                    files=files,
                    quarantine_files=qfiles,
                    validation=[v.partial() for v in validators],
                    attempts=attempt,
                )
            except Cancelled:
                _abort(writer, qwriter)
                return PartitionResult(table=table, index=part.index, cancelled=True, attempts=attempt)
            except Exception as exc:
                _abort(writer, qwriter)
                progress.put((table, part.index, 0, 0))
                retryable = isinstance(exc, SourceError) and exc.retryable
                if retryable and attempt < MAX_ATTEMPTS and not cancel.is_set():
                    delay = min(8.0, 0.5 * 2 ** (attempt - 1))
                    logger.warning(
                        "partition %s attempt %d failed (%s); retrying in %.1fs", part.label, attempt, exc, delay
                    )
                    _quiet_close(cache.sources)  # reconnect on the next attempt
                    if cancel.wait(delay):
                        return PartitionResult(table=table, index=part.index, cancelled=True, attempts=attempt)
                    continue
                logger.error("partition %s failed: %s", part.label, exc, exc_info=True)
                return PartitionResult(
                    table=table,
                    index=part.index,
                    attempts=attempt,
                    error=error_info(
                        exc, table=table, partition=part.label, attempt=attempt, partition_spec=dict(part.spec)
                    ),
                )
    finally:
        if own:
            cache.close()


def _fresh(validator: TableValidator) -> TableValidator:
    """A validator with no accumulated state (each attempt starts clean)."""
    return copy.deepcopy(validator)


def _abort(*writers: PartitionWriter | None) -> None:
    for w in writers:
        if w is not None:
            try:
                w.abort()
            except Exception:
                log.exception("could not remove a failed partition's files")


# ---------------------------------------------------------------------- coordinator


@attrs.define
class _TableRun:
    info: TableInfo
    partitions: list[Partition]
    validators: list[TableValidator]
    result: TableResult
    done: dict[int, PartitionResult] = attrs.field(factory=dict)
    progress: dict[int, tuple[int, int]] = attrs.field(factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.done) == len(self.partitions)


def _executor(
    kind: str,
    workers: int,
    cancel: Any,
    progress: Any,
    job_id: str,
    log_path: str | None,
    level: str,
    secrets: Sequence[str],
    mp_start: str | None,
) -> cf.Executor:
    args = (cancel, progress, job_id, log_path, level, tuple(s for s in secrets if s))
    if kind == "thread":
        return cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adu-part")
    ctx = multiprocessing.get_context(mp_start) if mp_start else multiprocessing.get_context()
    if ctx.get_start_method() == "forkserver":
        # the server imports the engine once; every pool process then forks from it
        ctx.set_forkserver_preload(["adu_core.engine"])
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=args)


def choose_executor(kind: str, source: Source, workers: int, partitions: int) -> str:
    """``thread`` or ``process``: how a job runs its partitions.

    ``auto`` picks threads when the source reads outside the GIL
    (:attr:`Source.reads_release_gil`): decoding then runs on every core from one process,
    which starts nothing, pickles nothing and holds one copy of its libraries (measured on
    the 3M-row PostgreSQL export: 5% faster and a third less memory than a process pool).
    Otherwise a process pool, so Python-heavy decoding is not serialised by the GIL. A
    single partition always runs in a thread: there is nothing to run beside it.
    """
    if kind not in config_mod.EXECUTORS:
        raise UsageError(f"executor must be one of {', '.join(config_mod.EXECUTORS)}, not {kind!r}")
    if workers == 1 and partitions == 1:
        return "thread"
    if kind == "auto":
        return "thread" if source.reads_release_gil else "process"
    return kind


def run_job(
    store: Store,
    job_id: str,
    *,
    password: str | None = None,
    settings: config_mod.Settings | None = None,
    plugins: Plugins | None = None,
    on_progress: ProgressCallback | None = None,
    executor: str | None = None,
    mp_start: str | None = "forkserver",
    worker_id: str | None = None,
) -> JobResult:
    """Run the claimed (``running``) job ``job_id`` to its end and return its result.

    :param password: the source password, when it is not in the store (CLI jobs).
    :param executor: ``auto``, ``thread`` or ``process`` (see :func:`choose_executor`);
        ``ADU_EXECUTOR`` (default ``auto``) when not given.
    :param mp_start: multiprocessing start method of a process pool; ``forkserver`` by default.
        ``fork`` is faster and safe only in a fresh process that has started no thread
        pools (the CLI passes it): polars' and DuckDB's thread pools do not survive a
        fork, and a long-lived process (a notebook, the worker, a test run) may have
        started them.
    :raises UsageError: bad input found while planning (the job is recorded failed first).
    """
    settings = settings or config_mod.load()
    plugins = plugins or get_plugins()
    job = store.get_job(job_id)
    spec = job.spec
    log_path = settings.job_log_path(job.id)
    with job_logging(log_path, job.id, settings.log_level):
        runner = _JobRunner(
            store,
            job.id,
            spec,
            settings,
            plugins,
            on_progress,
            executor or settings.executor,
            mp_start,
            worker_id or job.worker_id,
        )
        return runner.run(password if password is not None else store.job_secret(job.id))


class _JobRunner:
    def __init__(
        self,
        store: Store,
        job_id: str,
        spec: JobSpec,
        settings: config_mod.Settings,
        plugins: Plugins,
        on_progress: ProgressCallback | None,
        executor: str,
        mp_start: str | None,
        worker_id: str | None,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.spec = spec
        self.settings = settings
        self.plugins = plugins
        self.on_progress = on_progress
        self.executor_kind = executor
        self.mp_start = mp_start
        self.worker_id = worker_id
        self.log = logging.LoggerAdapter(log, {"job_id": job_id})
        self.started = time.time()
        self.tables: dict[str, _TableRun] = {}
        self.source_info: SourceInfo | None = None
        # store writes buffered between two progress ticks (see _flush)
        self._table_updates: dict[tuple[str, str], dict[str, Any]] = {}
        self._partition_records: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []

    # -- the whole job ----------------------------------------------------------------

    def run(self, password: str | None) -> JobResult:
        spec = self.spec
        self.plugins.job_started(job_id=self.job_id, spec=spec)
        self.log.info("job started: %s -> %s", redact_url(spec.source), spec.target)
        sink: Sink | None = None
        source: Source | None = None
        try:
            url = resolve_source(spec.source, password=password, connections_file=self.settings.connections_file)
            source = self.plugins.open_source(url, reader_options(spec.source_options))
            discovered, selected = plan_tables(source, spec)
            sink = self.plugins.sink_class(spec.sink)(spec.target, dict(spec.sink_options), job_id=self.job_id)
            # rules are checked against every table of the source: a shared rules file may
            # name tables this job (or this retry) does not export
            validators = self._validators(discovered)
            if spec.sign_key:
                from adu_core.signing import load_private_key

                load_private_key(spec.sign_key)  # a bad key is bad input, found before any data moves
            sink.prepare(overwrite=spec.overwrite, retry=bool(spec.retry_tables))
            base_info = source.info()
            with source.snapshot() as token:
                self.source_info = attrs.evolve(base_info, consistency=dict(token))
                plan = []
                for t in sorted(selected, key=lambda t: -(t.size_bytes or t.row_estimate or 0)):
                    parts = source.partitions(t, target=spec.parallel)
                    tvs = [tv for v in validators if (tv := v.for_table(t)) is not None]
                    self.tables[t.qualified_name] = _TableRun(
                        info=t,
                        partitions=parts,
                        validators=tvs,
                        result=TableResult(schema=t.schema, name=t.name),
                    )
                    plan.append((t, len(parts)))
                self.store.set_job_plan(self.job_id, self.source_info, plan)
                self.log.info("planned %d table(s), %d partition(s)", len(plan), sum(n for _, n in plan))
                self._run_partitions(url, token, source, sink)
            return self._finish(sink)
        except BaseException as exc:
            info = error_info(exc, stage="planning" if not self.tables else "running")
            # Ctrl-C or SIGTERM (the CLI turns it into KeyboardInterrupt): the user stopped it
            interrupted = isinstance(exc, KeyboardInterrupt)
            status = JobStatus.CANCELLED if interrupted else JobStatus.FAILED
            if interrupted:
                info = attrs.evolve(info, message=f"interrupted: {info.message}" if str(exc) else "interrupted")
                self.log.warning("job %s", info.message)
            else:
                self.log.error("job failed: %s", info.message, exc_info=not isinstance(exc, UsageError))
            if sink is not None:
                for run in self.tables.values():
                    if run.result.status != TableStatus.SUCCEEDED:
                        _quiet(sink.discard_table, run.info)
                _quiet(sink.close)
            _quiet(self._flush)
            self.store.finish_job(self.job_id, status, error=info)
            result = JobResult(
                job_id=self.job_id,
                status=status,
                error=info,
                tables=[r.result for r in self.tables.values()],
                source=self.source_info,
            )
            self.plugins.job_finished(job_id=self.job_id, result=result)
            raise
        finally:
            if source is not None:
                _quiet(source.close)

    def _validators(self, tables: Sequence[TableInfo]) -> list[Any]:
        if not self.spec.validate and not self.spec.rules:
            return []
        out = []
        for cls in self.plugins.validator_classes():
            v = cls({"rules": self.spec.rules, "infer": self.spec.validate})
            v.check_rules(tables)
            out.append(v)
        return out

    # -- partitions -------------------------------------------------------------------

    def _run_partitions(self, url: str, token: Mapping[str, Any], source: Source, sink: Sink) -> None:
        spec = self.spec
        tasks = [
            PartitionTask(
                job_id=self.job_id,
                source_url=url,
                source_options=reader_options(spec.source_options),
                sink_name=spec.sink,
                target=spec.target,
                sink_options=dict(spec.sink_options),
                partition=p,
                snapshot=dict(token),
                batch_rows=self.settings.batch_rows,
                validators=tuple(run.validators),
            )
            for run in self.tables.values()
            for p in run.partitions
        ]
        workers = max(1, min(spec.parallel, len(tasks)))
        kind = choose_executor(self.executor_kind, source, workers, len(tasks))
        self.log.info(
            "running %d partition(s), %d at a time, %s",
            len(tasks),
            workers,
            "in threads" if kind == "thread" else "in a process pool",
        )
        caches = _ThreadCaches()
        if kind == "thread":
            cancel: Any = threading.Event()
            progress: Any = queue.Queue()
        else:
            ctx = multiprocessing.get_context(self.mp_start) if self.mp_start else multiprocessing.get_context()
            cancel = ctx.Event()
            progress = ctx.Queue()
        from adu_core.secrets import known_secrets

        log_path = str(self.settings.job_log_path(self.job_id))
        pool = _executor(
            kind,
            workers,
            cancel,
            progress,
            self.job_id,
            log_path,
            self.settings.log_level,
            sorted(known_secrets()),
            self.mp_start,
        )
        now = time.time()
        for run in self.tables.values():
            run.result.started_at = now
            run.result.status = TableStatus.RUNNING
            self._update_table(run, status="running", started_at=now)
        self._flush()
        try:
            if kind == "thread":
                futures = {pool.submit(run_partition, t, cancel, progress, caches): t for t in tasks}
            else:
                futures = {pool.submit(run_partition, t): t for t in tasks}
            pending = set(futures)
            last_write = last_check = 0.0
            cancelled = False
            while pending:
                done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                self._drain(progress)
                for fut in done:
                    task = futures[fut]
                    try:
                        res = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a worker died (killed, out of memory)
                        res = PartitionResult(
                            table=task.partition.table.qualified_name,
                            index=task.partition.index,
                            error=error_info(
                                exc, table=task.partition.table.qualified_name, partition=task.partition.label
                            ),
                        )
                    self._partition_done(res, sink)
                now = time.monotonic()
                if now - last_check >= 1.0:
                    last_check = now
                    if not cancelled and self.store.cancel_requested(self.job_id):
                        cancelled = True
                        cancel.set()
                        self.log.warning("cancel requested: stopping every partition")
                    lost = self.worker_id is not None and not self.store.heartbeat(self.job_id, self.worker_id)
                    if lost and not cancelled:
                        cancelled = True
                        cancel.set()
                        self.log.error("this job is no longer ours (marked stale?): stopping")
                if now - last_write >= PROGRESS_INTERVAL or not pending:
                    last_write = now
                    self._write_progress()
                    self._flush()
        finally:
            if any(r.result.status == TableStatus.RUNNING for r in self.tables.values()):
                cancel.set()  # leaving early (an error, an interrupt): stop what still runs
            pool.shutdown(wait=True, cancel_futures=True)
            caches.close()
            if kind == "process":
                progress.close()
                progress.join_thread()

    def _drain(self, progress: Any) -> None:
        while True:
            try:
                table, index, rows, nbytes = progress.get_nowait()
            except (queue.Empty, EOFError, OSError):
                return
            run = self.tables.get(table)
            if run is not None and index not in run.done:
                run.progress[index] = (rows, nbytes)

    def _update_table(self, run: _TableRun, **fields: Any) -> None:
        self._table_updates.setdefault((run.info.schema, run.info.name), {}).update(fields)

    def _flush(self) -> None:
        """Write the buffered table updates, partition records and events in one go."""
        if not (self._table_updates or self._partition_records or self._events):
            return
        tables, parts, events = self._table_updates, self._partition_records, self._events
        self._table_updates, self._partition_records, self._events = {}, [], []
        self.store.record_batch(self.job_id, tables=tables, partitions=parts, log_events=events)

    def _write_progress(self) -> None:
        for run in self.tables.values():
            if run.result.status == TableStatus.RUNNING:
                rows = sum(r for r, _ in run.progress.values())
                nbytes = sum(b for _, b in run.progress.values())
                run.result.rows, run.result.bytes = rows, nbytes
                self._update_table(run, rows=rows, bytes=nbytes)
        if self.on_progress is not None:
            results = [r.result for r in self.tables.values()]
            est = sum((r.info.row_estimate or 0) for r in self.tables.values()) or None
            try:
                self.on_progress(
                    Progress(
                        tables_total=len(results),
                        tables_done=sum(1 for r in results if r.status == TableStatus.SUCCEEDED),
                        tables_failed=sum(
                            1 for r in results if r.status in (TableStatus.FAILED, TableStatus.CANCELLED)
                        ),
                        rows=sum(r.rows for r in results),
                        bytes=sum(r.bytes for r in results),
                        rows_estimate=est,
                        elapsed=time.time() - self.started,
                    )
                )
            except Exception:
                log.debug("progress callback failed", exc_info=True)

    def _partition_done(self, res: PartitionResult, sink: Sink) -> None:
        run = self.tables[res.table]
        run.done[res.index] = res
        run.progress[res.index] = (res.rows, res.bytes)
        status = "cancelled" if res.cancelled else "failed" if res.error else "succeeded"
        self._partition_records.append(
            dict(
                schema=run.info.schema,
                name=run.info.name,
                index=res.index,
                status=status,
                rows=res.rows,
                attempts=res.attempts,
                spec=dict(run.partitions[res.index].spec),
                error=res.error,
            )
        )
        self._update_table(run, partitions_done=len(run.done))
        if run.complete:
            self._table_done(run, sink)

    def _table_done(self, run: _TableRun, sink: Sink) -> None:
        results = [run.done[i] for i in sorted(run.done)]
        tr = run.result
        tr.finished_at = time.time()
        tr.rows = sum(r.rows for r in results)
        errors = [r.error for r in results if r.error is not None]
        try:
            if errors:
                tr.status, tr.error = TableStatus.FAILED, errors[0]
                sink.discard_table(run.info)
            elif any(r.cancelled for r in results):
                tr.status = TableStatus.CANCELLED
                tr.error = ErrorInfo(message="cancelled", kind="Cancelled", context={"table": run.info.qualified_name})
                sink.discard_table(run.info)
            else:
                report = self._validate_table(run, results, sink)
                tr.validation = report
                if report is not None and report.mode == "fail" and not report.passed:
                    tr.status = TableStatus.FAILED
                    tr.error = ErrorInfo(
                        message=f"validation failed: {report.failed_rows} row(s) broke "
                        + ", ".join(sorted({c.check for c in report.checks if c.failed_rows})),
                        kind="ValidationFailed",
                        context={"table": run.info.qualified_name},
                    )
                    sink.discard_table(run.info)
                else:
                    files, qfiles = sink.publish_table(run.info, results)
                    tr.files = files
                    tr.bytes = sum(f.bytes for f in files)
                    tr.rows = sum(f.rows for f in files)
                    if report is not None:
                        report.quarantine_files = qfiles
                        report.quarantined_rows = sum(f.rows for f in qfiles)
                    tr.status = TableStatus.SUCCEEDED
        except Exception as exc:  # noqa: BLE001
            tr.status = TableStatus.FAILED
            tr.error = error_info(exc, table=run.info.qualified_name, stage="publish")
            _quiet(sink.discard_table, run.info)
        level = logging.INFO if tr.status == TableStatus.SUCCEEDED else logging.ERROR
        self.log.log(
            level,
            "table %s %s: %d rows",
            run.info.qualified_name,
            tr.status.value,
            tr.rows,
            extra={"table": run.info.qualified_name},
        )
        self._update_table(
            run,
            status=tr.status.value,
            rows=tr.rows,
            bytes=tr.bytes,
            finished_at=tr.finished_at,
            error=tr.error,
            validation=tr.validation,
            files=[f.to_dict() for f in tr.files],
        )
        self._events.append(
            dict(
                level="INFO" if tr.status == TableStatus.SUCCEEDED else "ERROR",
                message=f"table {run.info.qualified_name} {tr.status.value}",
                table=run.info.qualified_name,
                data={"rows": tr.rows, "bytes": tr.bytes},
                ts=time.time(),
            )
        )
        self.plugins.table_finished(job_id=self.job_id, result=tr)

    def _validate_table(
        self, run: _TableRun, results: Sequence[PartitionResult], sink: Sink
    ) -> ValidationReport | None:
        if not run.validators:
            return None
        reports = []
        staged: list[str] | None = None
        for i, tv in enumerate(run.validators):
            partials = [r.validation[i] for r in results if r.validation is not None]
            report = tv.merge(partials)
            if staged is None:
                staged = sink.staged_files(run.info, results)
            report.checks.extend(tv.check_table(staged))
            reports.append(report)
        if len(reports) == 1:
            return reports[0]
        merged = ValidationReport(mode=_strictest(r.mode for r in reports))
        for r in reports:
            merged.checks.extend(r.checks)
            merged.failed_rows = max(merged.failed_rows, r.failed_rows)
        return merged

    # -- the end ----------------------------------------------------------------------

    def _finish(self, sink: Sink) -> JobResult:
        runs = list(self.tables.values())
        results = [r.result for r in runs]
        statuses = {r.status for r in results}
        if statuses == {TableStatus.SUCCEEDED}:
            status = JobStatus.SUCCEEDED
        elif TableStatus.CANCELLED in statuses:
            status = JobStatus.CANCELLED
        elif TableStatus.SUCCEEDED in statuses:
            status = JobStatus.PARTIAL
        else:
            status = JobStatus.FAILED
        manifest_path = None
        error = None
        if status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL):
            try:
                manifest_path = self._write_manifest(sink, runs)
            except Exception as exc:
                status = JobStatus.FAILED
                error = error_info(exc, stage="manifest")
                self.log.error("could not write the manifest: %s", exc, exc_info=True)
        elif status == JobStatus.FAILED:
            first = next((r.error for r in results if r.error is not None), None)
            error = first
        _quiet(sink.close)
        self._flush()
        self.store.finish_job(self.job_id, status, error=error, manifest_path=manifest_path)
        self.log.info("job %s: %d table(s), %d rows", status.value, len(results), sum(r.rows for r in results))
        result = JobResult(
            job_id=self.job_id,
            status=status,
            tables=results,
            source=self.source_info,
            error=error,
            manifest_path=manifest_path,
        )
        self.plugins.job_finished(job_id=self.job_id, result=result)
        return result

    def _write_manifest(self, sink: Sink, runs: Sequence[_TableRun]) -> str:
        from adu_core import __version__
        from adu_core.manifest import build_manifest, merge_manifest

        assert self.source_info is not None
        # failed tables are listed too (no rows, no files, their error), so the far side's
        # verify reports them missing instead of taking a partial export for a whole one
        entries = [
            (
                r.info,
                r.result
                if r.result.status == TableStatus.SUCCEEDED
                else attrs.evolve(r.result, rows=0, bytes=0, files=[]),
            )
            for r in runs
        ]
        manifest = build_manifest(
            job_id=self.job_id,
            adu_version=__version__,
            source=self.source_info,
            sink=self.spec.sink,
            tables=entries,
            created_at=datetime.now(UTC),
        )
        if self.spec.retry_tables:
            old = sink.read_manifest()
            if old is not None:
                manifest = merge_manifest(old, manifest)
        return sink.finalize(manifest, sign_key=self.spec.sign_key)


def _strictest(modes: Iterator[str] | Sequence[str]) -> str:
    order = {"fail": 0, "quarantine": 1, "warn": 2}
    return min(modes, key=lambda m: order.get(m, 0))


def _quiet(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.debug("cleanup step failed", exc_info=True)


# ------------------------------------------------------------------------- shortcuts


def submit_and_run(
    store: Store,
    spec: JobSpec,
    *,
    password: str | None = None,
    created_by: str | None = None,
    **kwargs: Any,
) -> JobResult:
    """Record ``spec`` as a job, claim it for this process and run it (what ``adu export``
    and notebooks do). The password stays in memory."""
    from adu_core.store import worker_identity

    job_id = store.create_job(spec, created_by=created_by or _whoami())
    wid = worker_identity()
    if store.claim_job(wid, job_id=job_id) is None:  # pragma: no cover - only a cancel in between
        raise UsageError(f"job {job_id} could not be started")
    return run_job(store, job_id, password=password, worker_id=wid, **kwargs)


def _whoami() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return str(os.getuid())
