"""Coordinator: what happens when a partition, a table and the job end.

A table is settled when all its partitions are back: failed or cancelled partitions
discard it; otherwise its validators' partials are merged (plus the table-wide checks on
the staged files) and, unless validation fails it, the sink publishes it atomically and
its manifest entry is recorded with its status. The job ends with the manifest (failed
tables listed, so the far side cannot take a partial export for a whole one; the tables
a retry kept included), written before its status in the store, and the
``adu_job_finished`` hook.

Whatever a plugin raises while a table is settled — even ``SystemExit`` or a
``KeyboardInterrupt`` no signal caused — fails that table, never the process; a real stop
(:mod:`adu_core.signals`) is raised again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from adu_core import signals
from adu_core.engine.completion import Earlier
from adu_core.engine.errors import error_info, quiet
from adu_core.engine.recorder import BufferedRecorder
from adu_core.errors import StoreUnavailable, UsageError
from adu_core.manifest import Manifest, ManifestPrevious, normalize, table_entry
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
from adu_core.plugin.components import Sink, TableValidator
from adu_core.plugin.manager import Plugins
from adu_core.store import JobEvent, PartitionRecord, Store, TableUpdate


@attrs.define
class TableRun:
    """A table of the running job: its plan, its partitions' results and live counters."""

    info: TableInfo
    partitions: list[Partition]
    validators: list[TableValidator]
    result: TableResult
    done: dict[int, PartitionResult] = attrs.field(factory=dict)
    #: ``{partition index: (rows, bytes)}`` as last reported
    progress: dict[int, tuple[int, int]] = attrs.field(factory=dict)
    #: the table's manifest entry (normalized), built when it was published
    entry: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return len(self.done) == len(self.partitions)

    def update(self, **fields: Any) -> TableUpdate:
        """A :class:`TableUpdate` of this table's row."""
        return TableUpdate(self.info.schema, self.info.name, **fields)


def _strictest(modes: Iterable[str]) -> str:
    order = {"fail": 0, "quarantine": 1, "warn": 2}
    return min(modes, key=lambda m: order.get(m, 0))


def _job_status(results: Sequence[TableResult]) -> JobStatus:
    statuses = {r.status for r in results}
    if statuses == {TableStatus.SUCCEEDED}:
        return JobStatus.SUCCEEDED
    if TableStatus.CANCELLED in statuses:
        return JobStatus.CANCELLED
    if TableStatus.SUCCEEDED in statuses:
        return JobStatus.PARTIAL
    return JobStatus.FAILED


class Outcome:
    """Settles partitions, tables and the job, recording each in the store."""

    def __init__(
        self,
        store: Store,
        job_id: str,
        spec: JobSpec,
        plugins: Plugins,
        recorder: BufferedRecorder,
        logger: logging.LoggerAdapter[logging.Logger],
        *,
        worker_id: str | None = None,
        outage_limit: float = 300.0,
    ) -> None:
        self.outage_limit = outage_limit
        self.store = store
        self.job_id = job_id
        self.spec = spec
        self.plugins = plugins
        self.recorder = recorder
        self.log = logger
        self.worker_id = worker_id
        #: the export a delta continues (set by the runner before any data moves)
        self.previous: ManifestPrevious | None = None

    # -- partitions and tables ---------------------------------------------------------

    def partition_done(self, run: TableRun, res: PartitionResult) -> bool:
        """Record a finished partition; True when it was its table's last one (the caller
        settles the table with :meth:`table_done`, once it may publish)."""
        run.done[res.index] = res
        run.progress[res.index] = (res.rows, res.bytes)
        status = TableStatus.CANCELLED if res.cancelled else TableStatus.FAILED if res.error else TableStatus.SUCCEEDED
        self.recorder.partition(
            PartitionRecord(
                schema=run.info.schema,
                name=run.info.name,
                index=res.index,
                status=status,
                rows=res.rows,
                attempts=res.attempts,
                spec=dict(run.partitions[res.index].spec),
                error=res.error,
                worker=res.worker or None,
            )
        )
        self.recorder.table(run.update(partitions_done=len(run.done)))
        return run.complete

    def table_done(self, run: TableRun, sink: Sink, *, publish: bool = True) -> None:
        """Publish or discard a table whose partitions are all back, and record it.

        :param publish: False when this run may not publish (it no longer holds the job's
            lease): the table is discarded, recorded cancelled.
        """
        results = [run.done[i] for i in sorted(run.done)]
        tr = run.result
        tr.finished_at = time.time()
        tr.rows = sum(r.rows for r in results)
        try:
            if publish:
                self._settle(run, results, sink)
            else:
                tr.status = TableStatus.CANCELLED
                tr.error = ErrorInfo(
                    message="not published: this run no longer holds the job's lease",
                    kind="Cancelled",
                    context={"table": run.info.qualified_name},
                )
                sink.discard_table(run.info)
        except BaseException as exc:
            if signals.is_stop(exc):
                raise
            tr.status = TableStatus.FAILED
            tr.error = error_info(exc, table=run.info.qualified_name, stage="publish")
            quiet(sink.discard_table, run.info)
            signals.raise_if_stopping()  # a signal a library turned into an error (DuckDB)
        ok = tr.status == TableStatus.SUCCEEDED
        name = run.info.qualified_name
        entry = table_entry(run.info, tr, job_id=self.job_id) if ok else None
        # the manifest's copy, built now, while other tables run, not at the job's end
        run.entry = normalize(entry) if entry is not None else None
        self.log.log(
            logging.INFO if ok else logging.ERROR,
            "table %s %s: %d rows",
            name,
            tr.status.value,
            tr.rows,
            extra={"table": name},
        )
        self.recorder.table(
            run.update(
                status=tr.status,
                rows=tr.rows,
                bytes=tr.bytes,
                finished_at=tr.finished_at,
                error=tr.error,
                validation=tr.validation,
                files=tuple(tr.files),
                entry=entry,
            )
        )
        self.recorder.event(
            JobEvent(
                level="INFO" if ok else "ERROR",
                message=f"table {name} {tr.status.value}",
                table=name,
                data={"rows": tr.rows, "bytes": tr.bytes},
            )
        )
        self.plugins.table_finished(job_id=self.job_id, result=tr)

    def _settle(self, run: TableRun, results: Sequence[PartitionResult], sink: Sink) -> None:
        tr = run.result
        errors = [r.error for r in results if r.error is not None]
        if errors:
            tr.status, tr.error = TableStatus.FAILED, errors[0]
            sink.discard_table(run.info)
            return
        if any(r.cancelled for r in results):
            tr.status = TableStatus.CANCELLED
            tr.error = ErrorInfo(message="cancelled", kind="Cancelled", context={"table": run.info.qualified_name})
            sink.discard_table(run.info)
            return
        report = self._validate(run, results, sink)
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
            return
        files, qfiles = sink.publish_table(run.info, results)
        tr.files = files
        tr.bytes = sum(f.bytes for f in files)
        tr.rows = sum(f.rows for f in files)
        if report is not None:
            report.quarantine_files = qfiles
            report.quarantined_rows = sum(f.rows for f in qfiles)
        tr.status = TableStatus.SUCCEEDED

    def _validate(self, run: TableRun, results: Sequence[PartitionResult], sink: Sink) -> ValidationReport | None:
        """One report from every validator's partials and table-wide checks."""
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

    # -- the job -----------------------------------------------------------------------

    def finish(
        self, runs: Sequence[TableRun], sink: Sink, source: SourceInfo, *, earlier: Earlier | None = None
    ) -> JobResult:
        """End a job whose partitions all ran: manifest (first), status, hook.

        :param earlier: what a retry kept of the attempts before it (its tables are in the
            manifest; tables it had to export again that the source lost are taken out).
        """
        earlier = earlier or Earlier()
        results = [r.result for r in runs]
        status = _job_status(results) if results else JobStatus.SUCCEEDED
        manifest_path = None
        error = None
        if status in (JobStatus.SUCCEEDED, JobStatus.PARTIAL):
            try:
                manifest_path = self._write_manifest(sink, runs, source, earlier)
            except Exception as exc:
                status = JobStatus.FAILED
                error = error_info(exc, stage="manifest")
                error = attrs.evolve(
                    error,
                    message=f"the manifest could not be written: {error.message}; the tables are published, "
                    f"`adu jobs retry {self.job_id}` writes it",
                )
                self.log.error("could not write the manifest: %s", exc, exc_info=True)
        elif status == JobStatus.FAILED:
            error = next((r.error for r in results if r.error is not None), None)
        quiet(sink.close)
        # the manifest is written: its record waits for the store (an outage) up to the limit
        self._stored(self.recorder.flush)
        if not self._stored(
            self.store.finish_job,
            self.job_id,
            status,
            error=error,
            manifest_path=manifest_path,
            worker_id=self.worker_id,
        ):
            self.log.error("job %s was taken back before its end was recorded", self.job_id)
        self.log.info("job %s: %d table(s), %d rows", status.value, len(results), sum(r.rows for r in results))
        result = JobResult(
            job_id=self.job_id,
            status=status,
            tables=results,
            source=source,
            error=error,
            manifest_path=manifest_path,
        )
        self.plugins.job_finished(job_id=self.job_id, result=result)
        return result

    def _stored(self, fn: Callable[..., bool], *args: Any, **kwargs: Any) -> bool:
        """``fn(...)``, a store write, tried again while the store is unreachable, for up
        to ``ADU_STORE_OUTAGE_SECONDS``."""
        deadline = time.monotonic() + self.outage_limit
        while True:
            try:
                return fn(*args, **kwargs)
            except StoreUnavailable:
                if time.monotonic() >= deadline:
                    raise

    def _discard(self, runs: Sequence[TableRun], sink: Sink | None) -> None:
        if sink is not None:
            for run in runs:
                if run.result.status != TableStatus.SUCCEEDED:
                    quiet(sink.discard_table, run.info)
            quiet(sink.close)

    def fail(self, exc: BaseException, runs: Sequence[TableRun], sink: Sink | None, source: SourceInfo | None) -> None:
        """End a job that stopped early (bad input, an error, an interrupt); the caller re-raises."""
        info = error_info(exc, stage="planning" if not runs else "running")
        # Ctrl-C or SIGTERM (the CLI turns it into KeyboardInterrupt): the user stopped it
        interrupted = signals.is_stop(exc)
        status = JobStatus.CANCELLED if interrupted else JobStatus.FAILED
        if interrupted:
            info = attrs.evolve(info, message=f"interrupted: {info.message}" if str(exc) else "interrupted")
            self.log.warning("job %s", info.message)
        else:
            self.log.error("job failed: %s", info.message, exc_info=not isinstance(exc, UsageError))
        self._discard(runs, sink)
        quiet(self.recorder.flush)
        try:
            self.store.finish_job(self.job_id, status, error=info, worker_id=self.worker_id)
        except StoreUnavailable:
            self.log.error("the job store is unreachable: the end of job %s is not recorded", self.job_id)
        result = JobResult(
            job_id=self.job_id,
            status=status,
            error=info,
            tables=[r.result for r in runs],
            source=source,
        )
        self.plugins.job_finished(job_id=self.job_id, result=result)

    def abandon(self, runs: Sequence[TableRun], sink: Sink | None) -> None:
        """Stop a job this run no longer holds (lost, or the store away too long): remove
        what it staged and write nothing to the store."""
        self._discard(runs, sink)

    def requeue(self, runs: Sequence[TableRun], sink: Sink, source: SourceInfo) -> JobResult:
        """Put the job back in the queue (a worker shutting down): what it published stays
        and is kept by the run that completes it; the rest is discarded."""
        self._discard(runs, sink)
        quiet(self.recorder.flush)
        reason = "the worker running this job shut down before it could finish: queued again to complete it"
        if self.worker_id is None or not self.store.requeue_job(self.job_id, self.worker_id, reason):
            self.log.error("job %s could not be requeued: it is no longer this worker's", self.job_id)
        else:
            self.log.warning("job %s requeued: %s", self.job_id, reason)
        return JobResult(job_id=self.job_id, status=JobStatus.QUEUED, tables=[r.result for r in runs], source=source)

    def _write_manifest(self, sink: Sink, runs: Sequence[TableRun], source: SourceInfo, earlier: Earlier) -> str:
        from adu_core import __version__
        from adu_core.manifest import build_manifest, link_manifest, merge_manifest

        # failed tables are listed too (no rows, no files, their error), so the far side's
        # verify reports them missing instead of taking a partial export for a whole one
        # a published table's entry was built when it was (Outcome.table_done)
        ready = [r.entry for r in runs if r.result.status == TableStatus.SUCCEEDED and r.entry is not None]
        entries = [
            (
                r.info,
                r.result
                if r.result.status == TableStatus.SUCCEEDED
                else attrs.evolve(r.result, rows=0, bytes=0, files=[]),
            )
            for r in runs
            if not (r.result.status == TableStatus.SUCCEEDED and r.entry is not None)
        ]
        # the target holds exactly what the manifest describes: nothing of a table that
        # failed in this run (an earlier, killed attempt may have published it)
        for r in runs:
            if r.result.status != TableStatus.SUCCEEDED:
                sink.unpublish_table(r.info.schema, r.info.name)
        for schema, name in sorted(earlier.vanished):
            self.log.warning("table %s.%s is no longer in the source: taken out of the export", schema, name)
            sink.unpublish_table(schema, name)
        manifest = build_manifest(
            job_id=self.job_id,
            adu_version=__version__,
            source=source,
            sink=self.spec.sink,
            tables=entries,
            created_at=datetime.now(UTC),
            profile=self.spec.profile,
            entries=ready,
        )
        if self.spec.is_retry:
            manifest = merge_manifest({"tables": list(earlier.entries.values()), "runs": earlier.runs}, manifest)
        manifest = link_manifest(manifest, self.previous)
        path = sink.finalize(manifest, sign_key=self.spec.sign_key)
        if manifest.watermarks:
            self._record_link(path, manifest)
        return path

    def _record_link(self, path: str, manifest: Manifest) -> None:
        """Record the export's watermarks in the job store (``--after last`` continues from
        them); a failure is logged, never a failure of the export."""
        import hashlib
        from pathlib import Path

        try:
            sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            link = self.store.record_watermarks(  # retried through an outage by the store itself
                self.job_id,
                source=self.spec.source,
                target=self.spec.target,
                manifest_sha256=sha,
                previous_sha256=manifest.previous.manifest_sha256 if manifest.previous else None,
                watermarks={k: (w.column, w.value) for k, w in (manifest.watermarks or {}).items()},
            )
            self.log.info(
                "chain: manifest %s… at position %d (%s)",
                sha[:16],
                link.position,
                f"delta after {link.previous_sha256[:16]}…" if link.previous_sha256 else "a full export: a new base",
            )
        except Exception as exc:  # noqa: BLE001 - the export itself is written
            self.log.error("the watermarks could not be recorded in the job store: %s", exc)
