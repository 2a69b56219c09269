"""Worker side: what a Dask worker runs for one partition of a job.

A task (:func:`run_task`) joins its job's state on this worker process (created by the
job's first task here, released by :func:`forget_job` when the job ends): the job's
plugins rebuilt from the coordinator's :class:`~adu_core.plugin.manager.PluginSet`, its
secrets masked in this process's logs, its log file when this host sees it, a cancel flag,
and a pool of sources and sinks reused by the job's partitions on this worker (so the
connections it holds never outnumber the partitions it runs at once).

Before reading anything a task checks the marker file the coordinator wrote in the
export directory: a worker that cannot see it (the directory is not on a shared mount)
refuses the partition with an error saying so, instead of writing files the coordinator
would never find. Progress goes back as Dask events (``Worker.log_event``) on the job's
topic; the result is a small :class:`~adu_core.models.PartitionResult`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs
from adu_core.engine import PartitionProgress, PartitionRuntime, PartitionTask, WorkerCaches, error_info, run_partition
from adu_core.errors import UsageError
from adu_core.logs import job_logging, job_thread
from adu_core.models import PartitionResult
from adu_core.plugin.manager import Plugins, PluginSet
from adu_core.secrets import remember_secret

log = logging.getLogger("adu.dask")

MARKER_PREFIX = ".adu-dask-"


@attrs.frozen
class JobTicket:
    """What every task of one job carries besides its partition (small, picklable).

    :param key: the job's key on the cluster (its id and a per-run suffix).
    :param plugins: the coordinator's plugins, rebuilt once per worker process.
    :param secrets: values to mask in this worker's logs.
    :param log_path: the job's log file (appended to when this host sees its folder).
    :param log_level: its level.
    :param marker: the marker file in the export directory (None: the sink writes no files).
    :param token: what the marker holds.
    :param topic: the Dask event topic progress goes to.
    """

    key: str
    job_id: str
    plugins: PluginSet
    secrets: tuple[str, ...]
    log_path: str | None
    log_level: str
    marker: str | None
    token: str
    topic: str


class _JobState:
    """One job on one worker process."""

    def __init__(self, ticket: JobTicket) -> None:
        remember_secret(*ticket.secrets)
        self.plugins: Plugins = ticket.plugins.build()
        self.cancel = threading.Event()
        self.stack = ExitStack()
        self._free: list[WorkerCaches] = []
        self._all: list[WorkerCaches] = []
        self._lock = threading.Lock()
        if ticket.log_path and Path(ticket.log_path).parent.is_dir():
            # not writable from here: this worker's own log keeps the records
            with contextlib.suppress(OSError):
                self.stack.enter_context(job_logging(Path(ticket.log_path), ticket.job_id, ticket.log_level))

    def take(self) -> WorkerCaches:
        with self._lock:
            if self._free:
                return self._free.pop()
            caches = WorkerCaches()
            self._all.append(caches)
            return caches

    def give(self, caches: WorkerCaches) -> None:
        with self._lock:
            self._free.append(caches)

    def close(self) -> None:
        with self._lock:
            for caches in self._all:
                caches.close()
            self._all.clear()
            self._free.clear()
        self.stack.close()


_jobs: dict[str, _JobState] = {}
_cancelled: set[str] = set()
_jobs_lock = threading.Lock()


def _state(ticket: JobTicket) -> _JobState:
    with _jobs_lock:
        state = _jobs.get(ticket.key)
        if state is None:
            state = _jobs[ticket.key] = _JobState(ticket)
            if ticket.key in _cancelled:
                state.cancel.set()
        return state


def cancel_job(key: str) -> None:
    """Run on every worker (``Client.run``) when the job is cancelled: its running tasks
    see the flag between batches and stop their read on the server; its tasks that start
    on this worker afterwards return cancelled at once."""
    with _jobs_lock:
        _cancelled.add(key)
        state = _jobs.get(key)
    if state is not None:
        state.cancel.set()


def forget_job(key: str) -> None:
    """Run on every worker (``Client.run``) when the job ends: close its connections and
    its log file, drop its plugins."""
    with _jobs_lock:
        state = _jobs.pop(key, None)
        _cancelled.discard(key)
    if state is not None:
        state.close()


def _worker() -> Any:
    from distributed import get_worker

    return get_worker()


def _refusal(task: PartitionTask, ticket: JobTicket, where: str) -> str | None:
    """Why this worker must not run ``task`` (it cannot see the export directory)."""
    if ticket.marker is None:
        return None
    marker = Path(ticket.marker)
    try:
        seen = marker.read_text(encoding="utf-8").strip()
    except OSError:
        seen = None
    if seen == ticket.token:
        return None
    return (
        f"Dask worker {where} cannot see the export directory {marker.parent} (no marker {marker.name} there): "
        "every worker must mount the export directory at the same path as the coordinator"
    )


def run_task(task: PartitionTask, ticket: JobTicket) -> PartitionResult:
    """Run one partition on this Dask worker (the function every task calls)."""
    worker = _worker()
    where = str(worker.address)
    part = task.partition
    table = part.table.qualified_name
    reason = _refusal(task, ticket, where)
    if reason is not None:
        log.error("%s", reason)
        return PartitionResult(
            table, part.index, worker=where, error=error_info(UsageError(reason), table=table, partition=part.label)
        )
    state = _state(ticket)
    topic = ticket.topic

    def report(msg: PartitionProgress) -> None:
        worker.log_event(topic, [msg.table, msg.index, msg.rows, msg.bytes])

    caches = state.take()
    try:
        with job_thread(task.job_id):
            runtime = PartitionRuntime(
                plugins=state.plugins, cancel=state.cancel, report=report, caches=caches, worker=where
            )
            return run_partition(task, runtime)
    finally:
        state.give(caches)
