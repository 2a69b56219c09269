"""Coordinator of a load job (``adu load``): an export directory into a database.

The same store, lease, log and progress as an export (:mod:`adu_core.engine.runner`
hands a job of kind ``load`` to :func:`run_load`): the export source (``DIR``) is verified
before any row moves (a mismatch fails the job naming the file), the tables the export
failed are recorded failed and skipped, and each selected table is loaded by the load sink
of the target URL on a thread of this process, several tables at once. Each table is
published atomically by the sink; a table whose load failed on a dropped connection is
loaded again from its start (at most :data:`ATTEMPTS` times) — nothing half-loaded is ever
visible on the target.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
from collections.abc import Sequence

from adu_core import config as config_mod
from adu_core import signals
from adu_core.connections import resolve_source
from adu_core.engine.errors import error_info, quiet
from adu_core.engine.lease import JobLease
from adu_core.engine.progress import Progress, ProgressCallback
from adu_core.engine.recorder import BufferedRecorder
from adu_core.errors import Cancelled, JobLost, StoreUnavailable, UsageError
from adu_core.logs import job_thread
from adu_core.manifest.io import load_manifest
from adu_core.models import (
    ErrorInfo,
    JobResult,
    JobSpec,
    JobStatus,
    SourceInfo,
    TableInfo,
    TableResult,
    TableStatus,
)
from adu_core.planning import reader_options
from adu_core.plugin.components import ChainDecision, LoadChain, LoadedTable, LoadSink, Source
from adu_core.plugin.manager import Plugins
from adu_core.secrets import redact_url
from adu_core.store import JobEvent, Store, TableRow, TableUpdate

log = logging.getLogger("adu.engine.load")

#: times a table is loaded when its load fails on a retryable error (a dropped connection)
ATTEMPTS = 3
POLL_SECONDS = 0.2
PROGRESS_INTERVAL = 1.0


class _Stop(threading.Event):
    """The cancel token of every table of the job (set: stop, leave the target unchanged)."""


def run_load(
    store: Store,
    job_id: str,
    spec: JobSpec,
    *,
    settings: config_mod.Settings,
    plugins: Plugins,
    password: str | None,
    on_progress: ProgressCallback | None = None,
    worker_id: str | None = None,
    shutdown: threading.Event | None = None,
) -> JobResult:
    """Run the claimed load job ``job_id`` to its end (see the module docstring).

    :param password: the target's password when it is not in the store.
    :raises UsageError: bad input (no export, a newer manifest, an unknown target...):
        the job is recorded failed first.
    :raises ExportMismatch: the export does not verify (recorded failed first).
    """
    return LoadRunner(store, job_id, spec, settings, plugins, on_progress, worker_id, shutdown).run(password)


class LoadRunner:
    def __init__(
        self,
        store: Store,
        job_id: str,
        spec: JobSpec,
        settings: config_mod.Settings,
        plugins: Plugins,
        on_progress: ProgressCallback | None,
        worker_id: str | None,
        shutdown: threading.Event | None,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.spec = spec
        self.settings = settings
        self.plugins = plugins
        self.on_progress = on_progress
        self.worker_id = worker_id
        self.shutdown = shutdown
        self.log = logging.LoggerAdapter(log, {"job_id": job_id})
        self.recorder = BufferedRecorder(store, job_id, worker_id=worker_id)
        self.lease = JobLease(
            store,
            job_id,
            worker_id,
            settings.heartbeat_seconds,
            lease_seconds=settings.stale_seconds,
            outage_limit=settings.store_outage_seconds,
        )
        self.results: dict[str, TableResult] = {}
        self.sent: dict[str, int] = {}
        self.expected: dict[str, int] = {}
        self.stop = _Stop()
        self.started = time.time()
        self.source_info: SourceInfo | None = None
        #: the export's link of a chain of repeated transfers, and what the sink decided
        self.chain: tuple[LoadChain, ChainDecision] | None = None
        self.notes: list[str] = []

    # -- the whole job ------------------------------------------------------------------

    def run(self, password: str | None) -> JobResult:
        spec = self.spec
        self.plugins.job_started(job_id=self.job_id, spec=spec)
        self.log.info("load started: %s -> %s", spec.source, redact_url(spec.target))
        source: Source | None = None
        sink: LoadSink | None = None
        self.lease.start()
        try:
            load_manifest(spec.source)  # no export, not JSON, a newer format: one line, before anything
            source = self.plugins.open_source(spec.source, reader_options(spec.source_options))
            url = resolve_source(spec.target, password=password, connections_file=self.settings.connections_file)
            sink = self.plugins.load_sink_class(url)(url, dict(spec.sink_options), job_id=self.job_id)
            self.log.info("verifying the export in %s", spec.source)
            discovered = source.discover()  # verifies first
            failed = list(getattr(source, "failed", list)())
            failed_names = {name for name, _ in failed}
            placeholders = [
                TableInfo(schema=q.partition(".")[0], name=q.partition(".")[2], columns=()) for q in failed_names
            ]
            try:
                chosen = spec.selection.select([*discovered, *placeholders])
            except UsageError as exc:  # the selection speaks of a source; here it is the export
                raise UsageError(str(exc).replace("in the source", "in the export")) from None
            tables = [t for t in chosen if t.qualified_name not in failed_names]
            self.log.info("the export verifies: %d table(s) to load", len(tables))
            sink.check()
            self.source_info = source.info()
            tables = self._chain(source, sink, tables)
            tables, kept = self._kept(sink, tables)
            self._plan(tables, failed)
            self._keep(kept)
            for name, why in failed:
                if self._selected(name):
                    self.log.warning("%s failed in the export and is skipped: %s", name, why)
            self._run_tables(source, sink, tables)
            if self.chain is not None and self.chain[1].apply:
                if all(r.status == TableStatus.SUCCEEDED for r in self.results.values()):
                    sink.end_chain(*self.chain)  # the target now holds this export: the next delta continues it
                else:
                    self.notes.append("the chain's position is not moved: load the same export again to complete it")
            return self._finish()
        except BaseException as exc:
            if isinstance(exc, JobLost):
                raise
            self._fail(exc)
            raise
        finally:
            self.lease.close()
            if source is not None:
                quiet(source.close)
            if sink is not None:
                quiet(sink.close)

    def _chain(self, source: Source, sink: LoadSink, tables: list[TableInfo]) -> list[TableInfo]:
        """An export that is a link of a chain: the sink decides (apply, skip or refuse,
        :meth:`LoadSink.begin_chain`) before any row moves; the tables to load."""
        chain_of = getattr(source, "chain", None)
        link = chain_of() if callable(chain_of) else None
        if link is None:
            return tables
        chain = LoadChain(source=link[0], manifest_sha256=link[1], previous_sha256=link[2], job_id=self.job_id)
        decision = sink.begin_chain(chain)
        self.chain = (chain, decision)
        self.notes.append(f"chain: {decision.message}")
        self.log.info("chain: %s", decision.message)
        self.recorder.event(JobEvent(level="INFO", message=f"chain: {decision.message}", data={
            "action": "chain",
            "manifest_sha256": chain.manifest_sha256,
            "previous_sha256": chain.previous_sha256,
            "position": decision.position,
            "applied": decision.apply,
        }))  # fmt: skip
        if not decision.apply:
            return []
        for name in sorted(decision.done):
            self.log.info("%s: already applied by an interrupted load of this export; skipped", name)
        return [t for t in tables if t.qualified_name not in decision.done]

    def _kept(
        self, sink: LoadSink, tables: list[TableInfo]
    ) -> tuple[list[TableInfo], list[tuple[TableInfo, LoadedTable, TableRow]]]:
        """A job run again (requeued after its worker died, ``adu jobs retry``): the tables
        an earlier run of this same job published — recorded succeeded in the job store,
        with what was loaded — are kept when the sink finds them on the target as recorded
        (:meth:`LoadSink.check_loaded`), not loaded twice (nor refused by ``--if-exists
        fail``). The tables still to load, and the kept ones."""
        rows = {f"{r.schema}.{r.name}": r for r in self.store.list_tables(self.job_id)}
        todo: list[TableInfo] = []
        kept: list[tuple[TableInfo, LoadedTable, TableRow]] = []
        for t in tables:
            row = rows.get(t.qualified_name)
            recorded = (
                (row.entry or {}).get("loaded") if row is not None and row.status == TableStatus.SUCCEEDED else None
            )
            if not isinstance(recorded, dict):
                todo.append(t)
                continue
            assert row is not None
            loaded = LoadedTable(
                schema=str(recorded["schema"]),
                name=str(recorded["name"]),
                rows=int(recorded["rows"]),
                created=bool(recorded.get("created", True)),
                text_columns=tuple(recorded.get("text_columns") or ()),
                notes=tuple(recorded.get("notes") or ()),
            )
            problem = sink.check_loaded(t, loaded)
            if problem:
                self.log.warning(
                    "%s: loaded by an earlier run of this job, but %s: loaded again", t.qualified_name, problem
                )
                todo.append(t)
            else:
                kept.append((t, loaded, row))
        return todo, kept

    def _keep(self, kept: Sequence[tuple[TableInfo, LoadedTable, TableRow]]) -> None:
        """The kept tables in the job's result (their store records stay as they are)."""
        for t, loaded, row in kept:
            self.log.info(
                "%s: kept: %d rows in %s.%s, loaded by an earlier run of this job (checked)",
                t.qualified_name,
                loaded.rows,
                loaded.schema,
                loaded.name,
            )
            self.results[t.qualified_name] = TableResult(
                schema=t.schema,
                name=t.name,
                status=TableStatus.SUCCEEDED,
                rows=loaded.rows,
                started_at=row.started_at,
                finished_at=row.finished_at,
            )
        if kept:
            self.notes.append(f"kept {len(kept)} table(s) loaded by an earlier run of this job")

    def _selected(self, qualified: str) -> bool:
        sel = self.spec.selection
        schema, _, name = qualified.partition(".")
        return sel.matches(TableInfo(schema=schema, name=name, columns=()))

    def _plan(self, tables: Sequence[TableInfo], failed: Sequence[tuple[str, str]]) -> None:
        plan = [(t, 1) for t in tables]
        skipped = []
        for qualified, why in failed:
            if not self._selected(qualified):
                continue
            schema, _, name = qualified.partition(".")
            info = TableInfo(schema=schema, name=name, columns=())
            plan.append((info, 0))
            skipped.append((info, why))
        assert self.source_info is not None
        self.store.set_job_plan(self.job_id, self.source_info, plan)
        for t in tables:
            self.results[t.qualified_name] = TableResult(schema=t.schema, name=t.name)
            self.expected[t.qualified_name] = int((t.properties or {}).get("rows") or 0)
        now = time.time()
        for info, why in skipped:
            err = ErrorInfo(kind="SkippedTable", message=f"not loaded: the table failed in the export ({why})")
            res = TableResult(
                schema=info.schema,
                name=info.name,
                status=TableStatus.FAILED,
                error=err,
                started_at=now,
                finished_at=now,
            )
            self.results[info.qualified_name] = res
            self.recorder.table(
                TableUpdate(info.schema, info.name, status=TableStatus.FAILED, error=err, finished_at=now)
            )
        self._flush()

    # -- tables -------------------------------------------------------------------------

    def _run_tables(self, source: Source, sink: LoadSink, tables: Sequence[TableInfo]) -> None:
        if not tables:
            return
        workers = max(1, min(self.spec.parallel, len(tables)))
        connections = max(1, self.spec.parallel // workers)
        self.log.info("loading %d table(s), %d at a time, %d connection(s) each", len(tables), workers, connections)
        # largest first: the long table starts at once, small ones fill the other slots
        order = sorted(tables, key=lambda t: -(t.size_bytes or 0))
        pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adu-load")
        futures: dict[cf.Future[LoadedTable], TableInfo] = {}
        try:
            for t in order:
                futures[pool.submit(self._load_bound, source, sink, t, connections)] = t
            pending = set(futures)
            last = 0.0
            while pending:
                done, pending = cf.wait(pending, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    self._settle(futures[fut], fut)
                self._check_stop()
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL or not pending:
                    last = now
                    self._progress()
        except BaseException:
            self.stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _check_stop(self) -> None:
        signals.raise_if_stopping()
        why = self.lease.check()
        if why is None and self.shutdown is not None and self.shutdown.is_set():
            why = (logging.WARNING, "the worker is shutting down: stopping the load (the target keeps what it had)")
        if why is not None and not self.stop.is_set():
            self.stop.set()
            self.log.log(*why)

    def _load_bound(self, source: Source, sink: LoadSink, table: TableInfo, connections: int) -> LoadedTable:
        """:meth:`_load_one` in a table thread bound to the job (the sink's records go to
        the job's log, its secrets are the job's)."""
        with job_thread(self.job_id):
            return self._load_one(source, sink, table, connections)

    def _load_one(self, source: Source, sink: LoadSink, table: TableInfo, connections: int) -> LoadedTable:
        """A table thread: load ``table``, again from its start after a dropped connection."""
        key = table.qualified_name
        expected = (table.properties or {}).get("rows")
        partitions = source.partitions(table, target=connections)
        for attempt in range(1, ATTEMPTS + 1):
            if self.stop.is_set():
                raise Cancelled(f"{key}: not loaded (the job was stopped)")
            self.sent[key] = 0

            def report(rows: int, key: str = key) -> None:
                self.sent[key] = rows

            try:
                return sink.load_table(
                    table,
                    source,
                    partitions,
                    expected_rows=int(expected) if expected is not None else None,
                    connections=connections,
                    cancel=self.stop,
                    report=report,
                )
            except Exception as exc:
                if attempt < ATTEMPTS and getattr(exc, "retryable", False) and not self.stop.is_set():
                    self.log.warning("%s: %s; loading it again from its start (attempt %d)", key, exc, attempt + 1)
                    time.sleep(min(2.0, 0.5 * attempt))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _settle(self, table: TableInfo, fut: cf.Future[LoadedTable]) -> None:
        key = table.qualified_name
        res = self.results[key]
        now = time.time()
        res.started_at = res.started_at or self.started
        res.finished_at = now
        try:
            loaded = fut.result()
        except Exception as exc:  # noqa: BLE001 - recorded as the table's error
            info = error_info(exc, table=key)
            res.status = TableStatus.CANCELLED if isinstance(exc, Cancelled) else TableStatus.FAILED
            res.error = info
            res.rows = 0
            self.log.error("%s: %s", key, info.message)
            self.recorder.table(TableUpdate(table.schema, table.name, status=res.status, error=info, finished_at=now))
        else:
            res.status = TableStatus.SUCCEEDED
            res.rows = loaded.rows
            target = f"{loaded.schema}.{loaded.name}"
            self.log.info(
                "%s: %d rows loaded into %s (%s)%s",
                key,
                loaded.rows,
                target,
                "created" if loaded.created else self.spec.sink_options.get("if_exists", "fail"),
                f"; kept as text: {', '.join(loaded.text_columns)}" if loaded.text_columns else "",
            )
            self.recorder.table(
                TableUpdate(
                    table.schema,
                    table.name,
                    status=TableStatus.SUCCEEDED,
                    rows=loaded.rows,
                    partitions_done=1,
                    finished_at=now,
                    entry={"loaded": loaded.to_dict()},
                )
            )
            self._flush()  # recorded at once: a run after a kill keeps it rather than loading it again
        self.plugins.table_finished(job_id=self.job_id, result=res)

    def _progress(self) -> None:
        for key, res in self.results.items():
            if res.status == TableStatus.PENDING and key in self.sent:
                res.status = TableStatus.RUNNING
                res.started_at = time.time()
                self.recorder.table(
                    TableUpdate(res.schema, res.name, status=TableStatus.RUNNING, started_at=res.started_at)
                )
            if res.status == TableStatus.RUNNING:
                res.rows = self.sent.get(key, 0)
                self.recorder.table(TableUpdate(res.schema, res.name, rows=res.rows))
        self._flush()
        if self.on_progress is not None:
            estimate = sum(self.expected.values()) or None
            try:
                self.on_progress(
                    Progress.of(list(self.results.values()), rows_estimate=estimate, elapsed=time.time() - self.started)
                )
            except Exception:
                log.debug("progress callback failed", exc_info=True)

    def _flush(self) -> None:
        try:
            if not self.recorder.flush():
                self.lease.lost = True
        except StoreUnavailable:
            pass

    # -- the end ------------------------------------------------------------------------

    def _finish(self) -> JobResult:
        results = list(self.results.values())
        ok = sum(1 for r in results if r.status == TableStatus.SUCCEEDED)
        if self.stop.is_set() and any(r.status == TableStatus.CANCELLED for r in results):
            status = JobStatus.CANCELLED
        elif ok == len(results):
            status = JobStatus.SUCCEEDED
        elif ok:
            status = JobStatus.PARTIAL
        else:
            status = JobStatus.FAILED
        error = None
        if status != JobStatus.SUCCEEDED:
            bad = [r for r in results if r.status != TableStatus.SUCCEEDED]
            first = bad[0].error if bad and bad[0].error else None
            error = ErrorInfo(
                kind=first.kind if first else "LoadFailed",
                message=f"{len(bad)} of {len(results)} table(s) not loaded"
                + (f"; {bad[0].qualified_name}: {first.message}" if first else ""),
            )
        quiet(self.recorder.flush)
        self.store.finish_job(self.job_id, status, error=error, worker_id=self.worker_id)
        self.log.info(
            "load %s: %d of %d table(s), %d rows", status.value, ok, len(results), sum(r.rows for r in results)
        )
        result = JobResult(
            job_id=self.job_id,
            status=status,
            tables=results,
            source=self.source_info,
            error=error,
            notes=list(self.notes),
        )
        self.plugins.job_finished(job_id=self.job_id, result=result)
        return result

    def _fail(self, exc: BaseException) -> None:
        info = error_info(exc, stage="planning" if not self.results else "running")
        interrupted = signals.is_stop(exc)
        status = JobStatus.CANCELLED if interrupted else JobStatus.FAILED
        if interrupted:
            self.log.warning("load interrupted")
        else:
            self.log.error("load failed: %s", info.message, exc_info=not isinstance(exc, UsageError))
        now = time.time()
        for res in self.results.values():
            if res.status in (TableStatus.PENDING, TableStatus.RUNNING):
                res.status = TableStatus.CANCELLED
                res.finished_at = now
                self.recorder.table(TableUpdate(res.schema, res.name, status=res.status, finished_at=now))
        quiet(self.recorder.flush)
        try:
            self.store.finish_job(self.job_id, status, error=info, worker_id=self.worker_id)
        except StoreUnavailable:
            self.log.error("the job store is unreachable: the end of job %s is not recorded", self.job_id)
        result = JobResult(
            job_id=self.job_id, status=status, error=info, tables=list(self.results.values()), source=self.source_info
        )
        self.plugins.job_finished(job_id=self.job_id, result=result)
