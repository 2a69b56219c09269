"""Wall-clock spans of one export job, for the benchmarks (never imported by the product).

:func:`install` wraps the steps of a job — the engine's planning, the PostgreSQL source's
queries and connections, the Parquet sink's writes and flushes, the job store's writes —
with ``time.perf_counter`` spans recorded per thread; :func:`timeline` prints the spans
of the job run since :func:`reset`, in the order they started, each with its thread, so
which steps are serial and which overlap can be read off::

    import spans
    spans.install()
    spans.reset(); adu.export(...); print(spans.timeline())

Only wrappers around functions (module or class attributes) are installed: the product's
code is unchanged and prints nothing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_LOCK = threading.Lock()
_SPANS: list[tuple[float, float, str, str]] = []  # start, end, thread, name
_T0 = [time.perf_counter()]
_INSTALLED: list[tuple[Any, str, Any]] = []

#: (module, attribute path, label): what :func:`install` wraps
TARGETS: tuple[tuple[str, str, str], ...] = (
    ("adu_core.services.running", "export", "job (services.export)"),
    ("adu_core.services.jobs", "submit", "store: create job"),
    ("adu_core.services.running", "run_here", "run_here"),
    ("adu_core.store", "Store.claim_job", "store: claim"),
    ("adu_core.store", "Store.get_job", "store: get_job"),
    ("adu_core.store", "Store.last_export", "store: last_export"),
    ("adu_core.store", "Store.set_job_plan", "store: set_job_plan"),
    ("adu_core.store", "Store.record_batch", "store: record_batch"),
    ("adu_core.store", "Store.finish_job", "store: finish_job"),
    ("adu_core.store", "Store.record_watermarks", "store: record_watermarks"),
    ("adu_core.store", "Store.heartbeat", "store: heartbeat"),
    ("adu_core.engine.runner", "resolve_previous", "previous (watermarks)"),
    ("adu_core.engine.runner", "plan_tables", "discovery (plan_tables)"),
    ("adu_core.engine.runner", "with_cursors", "watermarks (with_cursors)"),
    ("adu_core.engine.runner", "JobRunner._plan", "plan partitions"),
    ("adu_core.engine.runner", "JobRunner._run_partitions", "run partitions"),
    ("adu_core.engine.runner", "JobRunner._executor", "executor start"),
    ("adu_core.engine.runner", "JobRunner._end", "end (manifest, status)"),
    ("adu_core.engine.outcome", "Outcome.table_done", "table done (publish)"),
    ("adu_core.engine.outcome", "Outcome._write_manifest", "manifest"),
    ("adu_core.engine.outcome", "Outcome._record_link", "record link"),
    ("adu_core.engine.executors", "ThreadExecutor.shutdown", "executor shutdown"),
    ("adu_core.engine.lease", "JobLease.start", "lease start"),
    ("adu_core.engine.lease", "JobLease.close", "lease close"),
    ("adu_core.manifest", "build_manifest", "manifest: build"),
    ("adu_core.manifest.io", "write_atomic", "manifest: write_atomic"),
    ("adu_postgres.source", "connect", "pg: connect"),
    ("adu_postgres.source", "PostgresSource.discover", "pg: discover"),
    ("adu_postgres.source", "PostgresSource.info", "pg: info"),
    ("adu_postgres.source", "PostgresSource.cursor_bounds", "pg: cursor_bounds"),
    ("adu_postgres.source", "PostgresSource._delta_rows", "pg: delta estimate"),
    ("adu_postgres.source", "PostgresSource._cursor_ranges", "pg: cursor split"),
    ("adu_postgres.source", "PostgresSource.partitions", "pg: partitions"),
    ("adu_postgres.source", "PostgresSource.read", "pg: read partition"),
    ("adu_postgres.source", "PostgresSource.close", "pg: close"),
    ("adu_parquet.sink", "ParquetSink.prepare", "sink: prepare"),
    ("adu_parquet.sink", "ParquetSink.sync_staged", "sink: sync_staged"),
    ("adu_parquet.sink", "ParquetSink.publish_table", "sink: publish"),
    ("adu_parquet.sink", "ParquetSink.finalize", "sink: finalize"),
    ("adu_parquet.sink", "ParquetSink.close", "sink: close"),
    ("adu_parquet.sink", "ParquetSink.open_partition", "sink: open partition"),
    ("adu_parquet.writer", "ParquetPartitionWriter.close", "writer: close"),
    ("adu_parquet.writer", "ParquetPartitionWriter._open_file", "writer: open file"),
    ("os", "fsync", "fsync"),
    ("adu_parquet.sink", "_syncfs", "syncfs"),
)


def _record(name: str, start: float, end: float) -> None:
    with _LOCK:
        _SPANS.append((start, end, threading.current_thread().name, name))


def _wrap(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Iterator[Any]:
            start = time.perf_counter()
            try:
                yield from fn(*args, **kwargs)
            finally:
                _record(name, start, time.perf_counter())

        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(name, start, time.perf_counter())

    return call


def install(targets: tuple[tuple[str, str, str], ...] = TARGETS) -> None:
    """Wrap every target that exists (idempotent)."""
    if _INSTALLED:
        return
    for module_name, path, label in targets:
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, attr = path.split(".")
        for p in parents:
            owner = getattr(owner, p, None)
        if owner is None or not hasattr(owner, attr):
            continue
        raw = inspect.getattr_static(owner, attr)
        fn = getattr(owner, attr)
        if isinstance(raw, staticmethod):
            setattr(owner, attr, staticmethod(_wrap(fn, label)))
        else:
            setattr(owner, attr, _wrap(raw if inspect.isclass(owner) else fn, label))
        _INSTALLED.append((owner, attr, raw))


def uninstall() -> None:
    while _INSTALLED:
        owner, attr, raw = _INSTALLED.pop()
        setattr(owner, attr, raw)


def reset() -> None:
    with _LOCK:
        _SPANS.clear()
    _T0[0] = time.perf_counter()


def spans() -> list[tuple[float, float, str, str]]:
    with _LOCK:
        return list(_SPANS)


def timeline(title: str = "") -> str:
    """The spans since :func:`reset`: start and end in ms from it, thread, name; repeated
    short spans (fsync, store writes) are summed per name at the end."""
    t0 = _T0[0]
    rows = sorted(spans())
    lines = [f"   -- spans {title} (ms from the call; thread)"]
    totals: dict[str, tuple[int, float]] = {}
    for start, end, thread, name in rows:
        n, tot = totals.get(name, (0, 0.0))
        totals[name] = (n + 1, tot + end - start)
        if name in ("fsync",):
            continue
        lines.append(
            f"   {1000 * (start - t0):8.1f} {1000 * (end - t0):8.1f} {1000 * (end - start):7.1f}  {thread:<14} {name}"
        )
    lines.append("   -- totals: " + "; ".join(f"{k} {n}x {1000 * v:.1f}" for k, (n, v) in sorted(totals.items())))
    return "\n".join(lines)


@contextlib.contextmanager
def cpu_time() -> Iterator[list[float]]:
    """``[cpu seconds]`` of this process (all threads) spent inside the block."""
    out = [0.0]
    t = os.times()
    try:
        yield out
    finally:
        u = os.times()
        out[0] = (u.user - t.user) + (u.system - t.system)
