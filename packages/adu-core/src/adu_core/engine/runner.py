"""Coordinator: plan a claimed job and run its partitions on an executor.

:func:`run_job` runs one claimed job of the store in this process: it discovers the
tables, holds the source's snapshot, runs every partition on an executor (see
:func:`~adu_core.engine.executors.choose_executor`) and, while they run, collects their
progress, settles each table as its last partition comes back
(:mod:`~adu_core.engine.outcome`) while the job's lease is held
(:mod:`~adu_core.engine.lease`: renewed, and a cancel request looked for, every
``ADU_HEARTBEAT_SECONDS``), and writes the manifest last. A retry first takes over what
the attempts before it published (:mod:`~adu_core.engine.completion`).

Stopping: a cancel request, a signal (SIGINT/SIGTERM reach the main thread as
:class:`KeyboardInterrupt`, :mod:`adu_core.signals` makes sure no library swallows it),
a lost lease, the store away for too long, or ``shutdown`` (a worker stopping: the job is
put back in the queue to be completed by another run).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from adu_core import config as config_mod
from adu_core import signals
from adu_core.connections import resolve_sign_key
from adu_core.engine.completion import Earlier, earlier_tables
from adu_core.engine.errors import error_info, quiet
from adu_core.engine.executors import choose_executor
from adu_core.engine.incremental import CursorPlan, plan_cursors, resolve_previous, with_cursors
from adu_core.engine.jobsource import OpenedSource, open_job_source, opened_for, source_plan
from adu_core.engine.lease import JobLease
from adu_core.engine.outcome import Outcome, TableRun
from adu_core.engine.partition import PartitionProgress, PartitionTask
from adu_core.engine.progress import Progress, ProgressCallback
from adu_core.engine.recorder import BufferedRecorder
from adu_core.errors import JobFailed, JobLost, NotFound, StoreUnavailable, UsageError
from adu_core.logs import job_logging
from adu_core.models import (
    JobResult,
    JobSpec,
    PartitionResult,
    SourceInfo,
    TableInfo,
    TableResult,
    TableStatus,
)
from adu_core.planning import plan_tables
from adu_core.plugin.components import Executor, ExecutorContext, Sink, Source, Validator
from adu_core.plugin.manager import Plugins, get_plugins
from adu_core.secrets import known_secrets, redact_url, secret_scope
from adu_core.store import JobEvent, Store

log = logging.getLogger("adu.engine")

#: seconds between progress writes to the store.
PROGRESS_INTERVAL = 1.0
#: seconds the run loop waits for a partition before it looks at progress again.
POLL_SECONDS = 0.2


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
    shutdown: threading.Event | None = None,
    opened: OpenedSource | None = None,
) -> JobResult:
    """Run the claimed (``running``) job ``job_id`` to its end and return its result.

    :param password: the source password, when it is not in the store (CLI jobs).
    :param plugins: the plugins of this job, used by the coordinator and every worker
        (the process-wide ones when not given).
    :param executor: ``auto`` or a registered executor's name (see
        :func:`~adu_core.engine.executors.choose_executor`); ``ADU_EXECUTOR`` (default
        ``auto``) when not given.
    :param mp_start: multiprocessing start method of a process pool; ``forkserver`` by default.
        ``fork`` is faster and safe only in a fresh process that has started no thread
        pools (the CLI passes it): polars' and DuckDB's thread pools do not survive a
        fork, and a long-lived process (a notebook, the worker, a test run) may have
        started them.
    :param worker_id: the claim this process holds (its lease is renewed while the job runs).
    :param shutdown: set by a worker that is shutting down: the job stops and goes back to
        the queue (status ``queued`` in the result) to be completed by another run.
    :param opened: the job's source, opened before the job was recorded
        (:func:`open_job_source`): used when it is the source the job opens, closed otherwise.
    :raises UsageError: bad input found while planning (the job is recorded failed first).
    :raises JobLost: the job was taken back from this run (its lease expired).
    :raises JobFailed: the job store stayed unreachable too long, or a validator or plugin
        raised something that is not an exception (``SystemExit``...): recorded failed.
    """
    settings = settings or config_mod.load()
    plugins = plugins or get_plugins()
    job = store.get_job(job_id)
    with (
        secret_scope(job.id),  # the job's secrets mask the job's records only
        job_logging(settings.job_log_path(job.id), job.id, settings.log_level),
        signals.recording(),
    ):
        if job.spec.is_load:
            from adu_core.engine.loading import run_load

            return run_load(
                store,
                job.id,
                job.spec,
                settings=settings,
                plugins=plugins,
                password=password if password is not None else store.job_secret(job.id),
                on_progress=on_progress,
                worker_id=worker_id or job.worker_id,
                shutdown=shutdown,
            )
        runner = JobRunner(
            store,
            job.id,
            job.spec,
            settings,
            plugins,
            on_progress=on_progress,
            executor=executor or settings.executor,
            mp_start=mp_start,
            worker_id=worker_id or job.worker_id,
            shutdown=shutdown,
            opened=opened,
        )
        return runner.run(password if password is not None else store.job_secret(job.id))


class JobRunner:
    """Runs one claimed job: plan, partitions, outcome."""

    def __init__(
        self,
        store: Store,
        job_id: str,
        spec: JobSpec,
        settings: config_mod.Settings,
        plugins: Plugins,
        *,
        on_progress: ProgressCallback | None,
        executor: str,
        mp_start: str | None,
        worker_id: str | None,
        shutdown: threading.Event | None = None,
        opened: OpenedSource | None = None,
    ) -> None:
        self.store = store
        self.opened = opened
        self.job_id = job_id
        self.spec = spec
        self.settings = settings
        self.plugins = plugins
        self.on_progress = on_progress
        self.executor_kind = executor
        self.mp_start = mp_start
        self.worker_id = worker_id
        self.shutdown = shutdown
        self._bad_key: str | None = None
        self.log = logging.LoggerAdapter(log, {"job_id": job_id})
        self.started = time.time()
        self.tables: dict[str, TableRun] = {}
        self.deferred: list[TableRun] = []  # complete tables waiting for the lease to publish
        self.validators: list[Validator] = []
        self.read_options: dict[str, Any] = {}
        #: the partitions run in this process, beside the coordinator (see _open_source)
        self.in_process = False
        self._again: Callable[[TableRun], list[PartitionTask]] = lambda run: []
        self.source_info: SourceInfo | None = None
        self.earlier = Earlier()
        self.requeue = False
        self.recorder = BufferedRecorder(store, job_id, worker_id=worker_id)
        self.outcome = Outcome(
            store,
            job_id,
            spec,
            plugins,
            self.recorder,
            self.log,
            worker_id=worker_id,
            outage_limit=settings.store_outage_seconds,
        )
        self.lease = JobLease(
            store,
            job_id,
            worker_id,
            settings.heartbeat_seconds,
            lease_seconds=settings.stale_seconds,
            outage_limit=settings.store_outage_seconds,
        )

    # -- the whole job ----------------------------------------------------------------

    def _check_overwrite(self, target: str) -> None:
        """``overwrite`` replaces only an export a job of this store wrote (its manifest
        names the job): never a directory that merely holds some ``manifest.json``."""
        from adu_core.manifest.io import manifest_job_id

        path = Path(target)
        if not (path / "manifest.json").is_file():
            return  # empty, new, or no manifest: the sink decides (it refuses foreign files)
        job_id = manifest_job_id(path)
        known = False
        if job_id is not None:
            try:
                known = self.store.get_job(job_id).id == job_id
            except NotFound:
                known = False
        if not known:
            raise UsageError(f"the export in {target} was not written by a job of this store; refusing to replace it")

    def run(self, password: str | None) -> JobResult:
        named_key = (self.spec.sign_key or "").startswith("@")
        if self.spec.sign_key:
            try:  # a key registered by name (@release): its file, found when the job runs
                key = resolve_sign_key(self.spec.sign_key, self.settings.connections_file)
            except UsageError as exc:
                key = None
                self._bad_key = str(exc)
            self.spec = self.outcome.spec = attrs.evolve(self.spec, sign_key=key)
        spec = self.spec
        self.plugins.job_started(job_id=self.job_id, spec=spec)
        self.log.info("job started: %s -> %s", redact_url(spec.source), spec.target)
        sink: Sink | None = None
        source: Source | None = None
        try:
            # the source's connections start opening now, while the job's own set-up runs
            # and the previous export is resolved (a directory is verified first); a bad
            # source is reported below, in its turn
            early = self._early_source(spec, password)
            if early is not None:
                source = early[1]
            self.lease.start()
            if self.executor_kind != "auto":
                self.plugins.executor_class(self.executor_kind)  # a bad name is bad input: fail before any work
            sink = self.plugins.sink_class(spec.sink)(spec.target, dict(spec.sink_options), job_id=self.job_id)
            if self._bad_key:
                raise UsageError(self._bad_key)
            if spec.sign_key:
                from adu_core.signing import load_private_key

                try:
                    load_private_key(spec.sign_key)  # a bad key is bad input, found before any data moves
                except UsageError:
                    if not named_key:
                        raise
                    # a registered key: the job's readers never learn the admin's path
                    raise UsageError(
                        "the registered signing key cannot be read or is not an Ed25519 private key; ask an admin"
                    ) from None
            # a delta starts from a verified previous export: bad input before any data moves
            self.outcome.previous = resolve_previous(spec, self.store, self.plugins)
            if spec.is_retry:
                self.earlier = earlier_tables(self.store, self.job_id, spec, sink, self.log)
                redo = {f"{schema}.{name}" for schema, name in self.earlier.redo} | set(spec.retry_tables)
                spec = attrs.evolve(spec, retry_tables=tuple(sorted(redo)))
            if spec.is_retry and not spec.retry_tables:
                # every table is published and checks: only the manifest is missing; the
                # source is not needed (nor its password)
                sink.prepare(overwrite=spec.overwrite, retry=True)
                self.source_info = self._recorded_source()
                return self._end(sink)
            url, source = early if early is not None else self._open_source(spec, password)
            discovered, selected = plan_tables(source, spec)
            cursor_plan = plan_cursors(spec, source, selected, self.outcome.previous)
            self._say_delta(cursor_plan)
            found = {t.qualified_name for t in selected}
            self.earlier.vanished = {k for k in self.earlier.redo if f"{k[0]}.{k[1]}" not in found}
            # rules are checked against every table of the source: a shared rules file may
            # name tables this job (or this retry) does not export
            validators = self._validators(discovered)
            if spec.overwrite and not spec.is_retry:
                self._check_overwrite(spec.target)
            sink.prepare(overwrite=spec.overwrite, retry=spec.is_retry)
            base_info = source.info()
            if selected:
                with source.snapshot() as token:
                    self.source_info = attrs.evolve(base_info, consistency=dict(token))
                    # watermarks are read in the job's snapshot, like the rows
                    selected = with_cursors(source, selected, cursor_plan, token, self.log)
                    self._plan(source, selected, validators)
                    self._run_partitions(url, token, source, sink)
            else:
                self.source_info = base_info
            return self._end(sink)
        except BaseException as exc:
            if isinstance(exc, JobLost) or (self.lease.gave_up and not signals.is_stop(exc)):
                self.outcome.abandon(list(self.tables.values()), sink)
                raise
            self.outcome.fail(exc, list(self.tables.values()), sink, self.source_info)
            if isinstance(exc, Exception) or signals.is_stop(exc):
                raise
            # SystemExit, a KeyboardInterrupt no signal caused...: an error of the job, never
            # of the process running it (a worker survives it)
            raise JobFailed(f"job failed: {error_info(exc).message}") from exc
        finally:
            self.lease.close()
            if source is not None:
                quiet(source.close)
            if self.opened is not None:  # opened ahead for a job that never opened its source
                quiet(self.opened.source.close)
                self.opened = None

    def _open_source(self, spec: JobSpec, password: str | None) -> tuple[str, Source]:
        """The job's source URL and source (:func:`open_job_source`): the one opened before
        the job was recorded when it was opened for this job's source, options and executor."""
        opened, self.opened = self.opened, None
        if opened is not None:
            url, read_options, source_class = source_plan(spec, password, self.settings, self.plugins)
            wanted = opened_for(spec, url, read_options, source_class, self.executor_kind, opened.in_process)
            if opened.key != wanted:
                quiet(opened.source.close)
                opened = None
        if opened is None:
            opened = open_job_source(
                spec, password, settings=self.settings, plugins=self.plugins, executor=self.executor_kind
            )
        self.read_options = opened.read_options
        self.in_process = opened.in_process
        return opened.url, opened.source

    def _early_source(self, spec: JobSpec, password: str | None) -> tuple[str, Source] | None:
        """:meth:`_open_source` before the previous export is resolved, or None (a retry,
        which may not need the source; or an error, raised again in its turn)."""
        if spec.is_retry:
            return None
        try:
            return self._open_source(spec, password)
        except Exception:  # noqa: BLE001 - the same call raises it again where it always did
            return None

    def _end(self, sink: Sink) -> JobResult:
        """Requeue a job a shutdown stopped; otherwise write the manifest (lease held) and finish."""
        assert self.source_info is not None
        runs = list(self.tables.values())
        if self.requeue:
            return self.outcome.requeue(runs, sink, self.source_info)
        if self.lease.gave_up:
            raise JobFailed(self._gave_up_message())
        if not self.lease.wait_held():
            if self.lease.gave_up:
                raise JobFailed(self._gave_up_message())
            raise JobLost(f"job {self.job_id} was taken back from this run (its lease expired); nothing more written")
        return self.outcome.finish(runs, sink, self.source_info, earlier=self.earlier)

    def _say_delta(self, plan: CursorPlan) -> None:
        previous = self.outcome.previous
        if previous is None:
            return
        self.log.info(
            "delta after manifest %s…: %d table(s) by cursor", previous.manifest_sha256[:16], len(plan.cursors)
        )
        if plan.whole:
            self.log.warning("delta: no cursor column, exported whole: %s", ", ".join(plan.whole))

    def _recorded_source(self) -> SourceInfo:
        """The source as the job's earlier attempt recorded it (a retry that reads nothing)."""
        info = self.store.get_job(self.job_id).source_info or {}
        return SourceInfo(
            url=str(info.get("url") or redact_url(self.spec.source)),
            kind=str(info.get("kind") or ""),
            server_version=info.get("server_version"),
            consistency=dict(info.get("consistency") or {}),
        )

    def _gave_up_message(self) -> str:
        return (
            f"job {self.job_id} stopped: the job store was unreachable for {self.settings.store_outage_seconds:.0f} s "
            "(its staging is removed; it is requeued or marked stale when the store answers again)"
        )

    def _validators(self, tables: Sequence[TableInfo]) -> list[Validator]:
        if not self.spec.validate and not self.spec.rules:
            return []
        out = []
        for cls in self.plugins.validator_classes():
            v = cls({"rules": self.spec.rules, "infer": self.spec.validate})
            v.check_rules(tables)
            out.append(v)
        return out

    def _plan(self, source: Source, selected: Sequence[TableInfo], validators: Sequence[Validator]) -> None:
        """Partition every selected table (largest first) and record the plan."""
        assert self.source_info is not None
        plan = []
        self.validators = list(validators)
        for t in sorted(selected, key=lambda t: -(t.size_bytes or t.row_estimate or 0)):
            parts = source.partitions(t, target=self.spec.parallel)
            tvs = [tv for v in validators if (tv := v.for_table(t)) is not None]
            self.tables[t.qualified_name] = TableRun(
                info=t, partitions=parts, validators=tvs, result=TableResult(schema=t.schema, name=t.name)
            )
            plan.append((t, len(parts)))
        self.store.set_job_plan(self.job_id, self.source_info, plan)
        self.log.info("planned %d table(s), %d partition(s)", len(plan), sum(n for _, n in plan))

    # -- partitions -------------------------------------------------------------------

    def _tasks(self, url: str, token: Mapping[str, Any], runs: Sequence[TableRun] | None = None) -> list[PartitionTask]:
        spec = self.spec
        return [
            PartitionTask(
                job_id=self.job_id,
                source_url=url,
                source_options=self.read_options,
                sink_name=spec.sink,
                target=spec.target,
                sink_options=dict(spec.sink_options),
                partition=p,
                snapshot=dict(token),
                batch_rows=self.settings.batch_rows,
                validators=tuple(run.validators),
            )
            for run in (self.tables.values() if runs is None else runs)
            for p in run.partitions
        ]

    def _fallback(self, run: TableRun, source: Source, sink: Sink) -> TableRun | None:
        """The table read again with the columns its partitions could not type as exact
        text (:class:`~adu_core.errors.ColumnFallback`), or None when it is settled as it is.

        Only when every failed partition asked for it; the staged files are discarded, the
        fallback is a WARNING event of the job (and ``fallback`` in the manifest's column).
        """
        columns: set[str] = set()
        for res in run.done.values():
            if res.error is None:
                continue
            asked = res.error.context.get("fallback_columns")
            if not asked:
                return None  # a real failure: the table fails
            columns.update(str(c) for c in asked)
        if not columns:
            return None
        name = run.info.qualified_name
        try:
            info = source.fallback(run.info, sorted(columns))
        except Exception as exc:  # noqa: BLE001 - the table fails with its partitions' error
            self.log.warning("table %s: the text fallback failed: %s", name, exc)
            return None
        if info is None:
            return None
        quiet(sink.discard_table, run.info)
        message = next(r.error.message for r in run.done.values() if r.error is not None)
        self.log.warning(
            "table %s: column(s) %s read again as exact text (%s)", name, ", ".join(sorted(columns)), message
        )
        self.recorder.event(
            JobEvent(
                level="WARNING",
                message=f"table {name}: column(s) {', '.join(sorted(columns))} exported as exact text: {message}",
                table=name,
                data={"fallback": "text", "columns": sorted(columns)},
            )
        )
        again = TableRun(
            info=info,
            partitions=[attrs.evolve(p, table=info) for p in run.partitions],
            validators=[tv for v in self.validators if (tv := v.for_table(info)) is not None],
            result=run.result,
        )
        self.tables[name] = again
        self.recorder.table(again.update(partitions_done=0))
        return again

    def _executor(self, source: Source, workers: int, partitions: int) -> Executor:
        kind = choose_executor(self.executor_kind, source, workers, partitions, plugins=self.plugins)
        context = ExecutorContext(
            job_id=self.job_id,
            workers=workers,
            plugins=self.plugins,
            log_path=str(self.settings.job_log_path(self.job_id)),
            log_level=self.settings.log_level,
            secrets=tuple(s for s in sorted(known_secrets()) if s),
            mp_start=self.mp_start,
            settings=self.settings,
        )
        return self.plugins.executor_class(kind)(context)

    def _run_partitions(self, url: str, token: Mapping[str, Any], source: Source, sink: Sink) -> None:
        tasks = self._tasks(url, token)
        workers = max(1, min(self.spec.parallel, len(tasks)))
        if self.in_process:
            source.warm_up(readers=workers - 1)  # the spares the plan needs (no more: a 1-partition job none)
        executor = self._executor(source, workers, len(tasks))
        self.log.info("running %d partition(s), %d at a time, %s", len(tasks), workers, executor.where())
        now = time.time()
        for run in self.tables.values():
            run.result.started_at = now
            run.result.status = TableStatus.RUNNING
            self.recorder.table(run.update(status=TableStatus.RUNNING, started_at=now))
        self.recorder.flush()
        self._again = lambda run: self._tasks(url, token, [run])
        # the partitions read in this process may use the coordinator's open connections,
        # given back once the executor has shut down
        with source.lend():
            try:
                self._loop(executor, tasks, sink, source)
            finally:
                if any(r.result.status == TableStatus.RUNNING for r in self.tables.values()):
                    executor.cancel()  # leaving early (an error, an interrupt): stop what still runs
                executor.shutdown()

    def _loop(self, executor: Executor, tasks: Sequence[PartitionTask], sink: Sink, source: Source) -> None:
        """Submit every partition and settle them as they come back, until none is left
        (and no complete table waits for the lease to be published)."""
        futures = {executor.submit(t): t for t in tasks}
        pending: set[cf.Future[PartitionResult]] = set(futures)
        # the tables were just recorded running: the next progress write a tick later (a
        # short job writes once, at its end)
        last_write = time.monotonic()
        stopping = False
        while pending or (self.deferred and not stopping):
            done: set[cf.Future[PartitionResult]] = set()
            if pending:
                done, pending = cf.wait(pending, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
            else:
                time.sleep(POLL_SECONDS)  # only tables waiting for the store to come back
            self._take(executor.progress())
            # the staged files of the partitions back now, made durable at once, while the
            # other partitions still run (not when their table settles: a big table's first
            # partition would then be flushed only after its last)
            finished = [_result(fut, futures[fut]) for fut in done]
            written = [r for r in finished if r.error is None and not r.cancelled and (r.files or r.quarantine_files)]
            if written:
                quiet(sink.sync_staged, written)
            for res in finished:
                run = self.tables[res.table]
                if self.outcome.partition_done(run, res):
                    again = None if stopping else self._fallback(run, source, sink)
                    if again is None:
                        self.deferred.append(run)
                        continue
                    for task in self._again(again):
                        fut = executor.submit(task)
                        futures[fut] = task
                        pending.add(fut)
            now = time.monotonic()
            stop = self._why_stop(now)
            if stop is not None and not stopping:
                stopping = True
                executor.cancel()
                self.log.log(*stop)
            self._settle_deferred(sink, now, stopping)
            if now - last_write >= PROGRESS_INTERVAL or not pending:
                last_write = now
                self._write_progress()
                self._flush()
        signals.raise_if_stopping()

    def _why_stop(self, now: float) -> tuple[int, str] | None:
        signals.raise_if_stopping()  # a signal something swallowed (DuckDB: "Query interrupted")
        stop = self.lease.check()
        if stop is None and self.shutdown is not None and self.shutdown.is_set():
            self.requeue = True
            stop = (logging.WARNING, "the worker is shutting down: stopping; the job goes back to the queue")
        return stop

    def _settle_deferred(self, sink: Sink, now: float, stopping: bool) -> None:
        """Settle the complete tables: publish them while the lease is held; discard them
        when the job stops without it (cancelled partitions never need it)."""
        if not self.deferred:
            return
        if self.lease.held(now) or stopping:
            runs, self.deferred = self.deferred, []
            for run in runs:
                self.outcome.table_done(run, sink, publish=self.lease.held(now) and not self.requeue)

    def _flush(self) -> None:
        """Write what the recorder holds; while the store is unreachable it keeps it."""
        try:
            if not self.recorder.flush():
                self.lease.lost = True
        except StoreUnavailable:
            pass  # kept: written at a later tick (the lease says when to give up)

    def _take(self, messages: Sequence[PartitionProgress]) -> None:
        for msg in messages:
            run = self.tables.get(msg.table)
            if run is not None and msg.index not in run.done:
                run.progress[msg.index] = (msg.rows, msg.bytes)

    def _write_progress(self) -> None:
        for run in self.tables.values():
            if run.result.status == TableStatus.RUNNING:
                rows = sum(r for r, _ in run.progress.values())
                nbytes = sum(b for _, b in run.progress.values())
                run.result.rows, run.result.bytes = rows, nbytes
                self.recorder.table(run.update(rows=rows, bytes=nbytes))
        if self.on_progress is None:
            return
        estimate = sum((r.info.row_estimate or 0) for r in self.tables.values()) or None
        progress = Progress.of(
            [r.result for r in self.tables.values()], rows_estimate=estimate, elapsed=time.time() - self.started
        )
        try:
            self.on_progress(progress)
        except Exception:
            log.debug("progress callback failed", exc_info=True)


def _result(fut: cf.Future[PartitionResult], task: PartitionTask) -> PartitionResult:
    """The future's result; a failed result when the worker itself was lost."""
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a worker died (killed, out of memory)
        table = task.partition.table.qualified_name
        return PartitionResult(
            table=table,
            index=task.partition.index,
            error=error_info(exc, table=table, partition=task.partition.label),
        )


# ------------------------------------------------------------------------- shortcuts


def submit_and_run(
    store: Store,
    spec: JobSpec,
    *,
    password: str | None = None,
    created_by: str | None = None,
    **kwargs: Any,
) -> JobResult:
    """Record ``spec`` as a job, claim it for this process (a *foreground* job: if this
    process dies, the job becomes stale instead of being run by a worker) and run it (what
    ``adu export`` and notebooks do). The password stays in memory."""
    from adu_core.store import worker_identity

    job_id = store.create_job(spec, created_by=created_by or _whoami())
    wid = worker_identity()
    settings = kwargs.get("settings") or config_mod.load()
    kwargs["settings"] = settings
    if store.claim_job(wid, job_id=job_id, lease_seconds=settings.stale_seconds, foreground=True) is None:
        raise UsageError(f"job {job_id} could not be started")  # pragma: no cover - only a cancel in between
    return run_job(store, job_id, password=password, worker_id=wid, **kwargs)


def _whoami() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return str(os.getuid())
