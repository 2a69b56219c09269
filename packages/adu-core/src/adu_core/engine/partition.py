"""The partition worker: read one partition, validate it, write it.

This is what runs on an executor's workers (a thread, a pool process, a cluster node):
:func:`run_partition` streams the batches of one :class:`PartitionTask` from the source
through the validators to the sink, retries retryable source errors, and returns a small
:class:`~adu_core.models.PartitionResult`. Everything it needs from its host arrives in a
:class:`PartitionRuntime`: the job's plugins, the cancel signal, where progress goes, and
the sources and sinks this worker keeps open between partitions (:class:`WorkerCaches`).

Memory stays bounded by ``batch_rows x parallel``: a worker holds one batch at a time.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from adu_core import signals
from adu_core.engine.errors import error_info, quiet
from adu_core.errors import Cancelled, ColumnFallback, SourceError
from adu_core.models import Partition, PartitionResult
from adu_core.plugin.components import (
    FAILED_CHECKS_COLUMN,
    BatchVerdict,
    CancelToken,
    PartitionWriter,
    Sink,
    Source,
    TableValidator,
)
from adu_core.plugin.manager import Plugins

log = logging.getLogger("adu.engine")

#: attempts per partition for retryable source errors (dropped connection, restart).
MAX_ATTEMPTS = 3
#: seconds between a worker's progress messages.
REPORT_INTERVAL = 0.25


@attrs.frozen
class PartitionTask:
    """Everything a worker needs for one partition (pickled to the worker)."""

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


@attrs.frozen
class PartitionProgress:
    """A worker's progress message: rows and bytes written so far by one partition
    (rows and bytes 0 when an attempt failed and starts again)."""

    table: str
    index: int
    rows: int
    bytes: int


def local_worker() -> str:
    """This process's name as a partition's worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@attrs.define
class WorkerCaches:
    """The sources (with their open connections) and sinks a worker reuses across the
    partitions it runs: one per pool process, or one per thread of a threaded job."""

    sources: dict[Any, Source] = attrs.field(factory=dict)
    sinks: dict[Any, Sink] = attrs.field(factory=dict)

    def source(self, task: PartitionTask, plugins: Plugins) -> Source:
        key = (task.source_url, repr(sorted(task.source_options.items())))
        src = self.sources.get(key)
        if src is None:
            src = self.sources[key] = plugins.open_source(task.source_url, dict(task.source_options))
        return src

    def sink(self, task: PartitionTask, plugins: Plugins) -> Sink:
        key = (task.sink_name, task.target, task.job_id)
        sink = self.sinks.get(key)
        if sink is None:
            cls = plugins.sink_class(task.sink_name)
            sink = self.sinks[key] = cls(task.target, dict(task.sink_options), job_id=task.job_id)
        return sink

    def close_sources(self) -> None:
        """Close every source (the next partition reconnects)."""
        for src in self.sources.values():
            quiet(src.close)
        self.sources.clear()

    def close(self) -> None:
        self.close_sources()
        self.sinks.clear()


class ThreadCaches:
    """One :class:`WorkerCaches` per thread of a threaded job; all closed when the job ends."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[WorkerCaches] = []
        self._lock = threading.Lock()

    def get(self) -> WorkerCaches:
        caches: WorkerCaches | None = getattr(self._local, "caches", None)
        if caches is None:
            caches = self._local.caches = WorkerCaches()
            with self._lock:
                self._all.append(caches)
        return caches

    def close(self) -> None:
        with self._lock:
            for caches in self._all:
                caches.close()
            self._all.clear()


@attrs.define
class PartitionRuntime:
    """What the worker running a partition provides.

    :param plugins: the job's plugins (sources and sinks are opened through them).
    :param cancel: set when the job must stop; checked between batches.
    :param report: receives :class:`PartitionProgress` messages (a queue's ``put``).
    :param caches: sources and sinks kept open between partitions of this worker; None
        opens fresh ones and closes them when the partition ends.
    :param worker: where this runs, recorded with the partition (``host:pid``).
    """

    plugins: Plugins
    cancel: CancelToken
    report: Callable[[PartitionProgress], None]
    caches: WorkerCaches | None = None
    worker: str = attrs.field(factory=local_worker)


class _Retry(Exception):
    """The attempt failed with a retryable error; the next one starts after ``delay``."""


def run_partition(task: PartitionTask, runtime: PartitionRuntime) -> PartitionResult:
    """Read one partition, validate, write; retry retryable source errors.

    Never raises for a failure of the partition: the result carries the error (or
    ``cancelled``), the attempts made and ``runtime.worker``.
    """
    cache = runtime.caches if runtime.caches is not None else WorkerCaches()
    try:
        attempt = 1
        while True:
            try:
                return _attempt(task, runtime, cache, attempt)
            except _Retry:
                attempt += 1
    finally:
        if runtime.caches is None:
            cache.close()


@attrs.define
class _Writers:
    """The data and quarantine writers of one attempt."""

    data: PartitionWriter | None = None
    quarantine: PartitionWriter | None = None

    def abort(self) -> None:
        for w in (self.data, self.quarantine):
            if w is not None:
                try:
                    w.abort()
                except Exception:
                    log.exception("could not remove a failed partition's files")


def _attempt(task: PartitionTask, runtime: PartitionRuntime, cache: WorkerCaches, attempt: int) -> PartitionResult:
    part = task.partition
    table = part.table.qualified_name
    ended = functools.partial(PartitionResult, table, part.index, attempts=attempt, worker=runtime.worker)
    writers = _Writers()
    try:
        if runtime.cancel.is_set():
            raise Cancelled("cancelled")
        return _copy(task, runtime, cache, attempt, writers)
    except Cancelled:
        writers.abort()
        return ended(cancelled=True)
    except BaseException as exc:
        writers.abort()
        if signals.is_stop(exc):
            raise
        runtime.report(PartitionProgress(table, part.index, 0, 0))
        logger = logging.LoggerAdapter(log, {"job_id": task.job_id, "table": table})
        if isinstance(exc, SourceError) and exc.retryable and attempt < MAX_ATTEMPTS and not runtime.cancel.is_set():
            delay = min(8.0, 0.5 * 2 ** (attempt - 1))
            logger.warning("partition %s attempt %d failed (%s); retrying in %.1fs", part.label, attempt, exc, delay)
            cache.close_sources()  # reconnect on the next attempt
            if runtime.cancel.wait(delay):
                return ended(cancelled=True)
            raise _Retry from exc
        fallback = list(exc.columns) if isinstance(exc, ColumnFallback) else None
        if fallback:  # not a failure yet: the coordinator reads the table again
            logger.warning("partition %s: %s", part.label, exc)
        else:
            logger.error("partition %s failed: %s", part.label, exc, exc_info=True)
        info = error_info(
            exc,
            table=table,
            partition=part.label,
            attempt=attempt,
            partition_spec=dict(part.spec),
            fallback_columns=fallback,
        )
        return ended(error=info)


def _copy(
    task: PartitionTask, runtime: PartitionRuntime, cache: WorkerCaches, attempt: int, writers: _Writers
) -> PartitionResult:
    """Stream the partition from the source through the validators to the sink."""
    part = task.partition
    table = part.table.qualified_name
    cancel = runtime.cancel
    validators = [copy.deepcopy(v) for v in task.validators]  # each attempt starts clean
    quarantine = any(v.mode == "quarantine" for v in validators)
    source = cache.source(task, runtime.plugins)
    sink = cache.sink(task, runtime.plugins)
    writer = writers.data = sink.open_partition(part, attempt=attempt)
    rows = 0
    last = 0.0
    for batch in source.read(part, snapshot=task.snapshot, batch_rows=task.batch_rows, cancel=cancel):
        if cancel.is_set():
            raise Cancelled("cancelled")
        if batch.num_rows == 0:
            continue
        if validators:
            bad, batch = _split(batch, [v.validate(batch) for v in validators], quarantine)
            if bad is not None:
                if writers.quarantine is None:
                    writers.quarantine = sink.open_partition(part, attempt=attempt, quarantine=True)
                writers.quarantine.write(bad)
        nbytes = writer.write(batch)
        rows += batch.num_rows
        now = time.monotonic()
        if now - last >= REPORT_INTERVAL:
            last = now
            runtime.report(PartitionProgress(table, part.index, rows, nbytes))
    if cancel.is_set():
        # a source may stop early when asked to (DuckDB's returns): the rows so far are not
        # the whole partition, so it must never be published as if they were
        raise Cancelled("cancelled")
    files = writer.close()
    writers.data = None
    qfiles = writers.quarantine.close() if writers.quarantine is not None else []
    writers.quarantine = None
    total_bytes = sum(f.bytes for f in files)
    runtime.report(PartitionProgress(table, part.index, rows, total_bytes))
    return PartitionResult(
        table=table,
        index=part.index,
        rows=rows + sum(f.rows for f in qfiles),
        bytes=total_bytes,
        files=files,
        quarantine_files=qfiles,
        validation=[v.partial() for v in validators],
        attempts=attempt,
        worker=runtime.worker,
    )


def _split(
    batch: pa.RecordBatch, verdicts: Sequence[BatchVerdict], quarantine: bool
) -> tuple[pa.RecordBatch | None, pa.RecordBatch]:
    """``(bad rows with their reasons, rows to write)``: bad is None unless quarantining."""
    failed, reasons = _combine(verdicts, batch.num_rows)
    if not quarantine or failed is None or reasons is None or not pc.any(failed).as_py():
        return None, batch
    bad = batch.filter(failed).append_column(FAILED_CHECKS_COLUMN, reasons.filter(failed))
    return bad, batch.filter(pc.invert(failed))


def _combine(verdicts: Sequence[BatchVerdict], n: int) -> tuple[pa.Array | None, pa.Array | None]:
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
