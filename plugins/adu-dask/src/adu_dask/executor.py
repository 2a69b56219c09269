"""Coordinator side: the ``dask`` executor.

Each partition is submitted as one Dask task (:func:`adu_dask.task.run_task`) with
``retries=`` (a task that raised runs again) and, when ``ADU_DASK_RESOURCE`` is set, one
unit of that worker resource (so the cluster runs at most as many partitions, and holds
at most as many source connections, as its workers declare units). A Dask worker that
dies mid-task has its tasks rescheduled on the others by the scheduler; the files the lost
attempt staged carry a name of their own and are never listed in a result, so they are
never published (the sink removes its staging at the end).

Progress comes back as Dask events (``Worker.log_event`` on the job's topic, to which
this client subscribes); cancel runs :func:`adu_dask.task.cancel_job` on every worker.
Futures are bridged to :class:`concurrent.futures.Future` for the engine's run loop.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import os
import queue
import secrets
import uuid
from pathlib import Path
from typing import Any, ClassVar

from adu_core.engine import PartitionProgress, PartitionTask
from adu_core.errors import UsageError
from adu_core.models import PartitionResult
from adu_core.plugin.components import Executor, ExecutorContext
from adu_core.plugin.options import Option

from adu_dask import cluster
from adu_dask.settings import OPTIONS, DaskSettings
from adu_dask.task import MARKER_PREFIX, JobTicket, cancel_job, forget_job, run_task

log = logging.getLogger("adu.dask")

#: seconds :meth:`DaskExecutor.shutdown` waits for running tasks to return after a cancel
CANCEL_WAIT_SECONDS = 60.0


class DaskExecutor(Executor):
    """Partitions as tasks of a Dask distributed cluster."""

    name = "dask"
    title = "Dask"
    description = "partitions as tasks of a Dask cluster (ADU_DASK_SCHEDULER, or a LocalCluster of this host)"
    option_schema: ClassVar[tuple[Option, ...]] = OPTIONS

    def __init__(self, context: ExecutorContext) -> None:
        super().__init__(context)
        self.settings = DaskSettings.from_env(os.environ)
        self.client = cluster.client_for(self.settings, context.workers)
        self._check_workers()
        self.key = f"{context.job_id}-{uuid.uuid4().hex[:8]}"
        self.topic = f"adu-progress-{self.key}"
        self._token = secrets.token_hex(16)
        self._markers: dict[tuple[str, str], str | None] = {}
        self._plugins = context.plugins.portable()
        self._messages: queue.SimpleQueue[PartitionProgress] = queue.SimpleQueue()
        self._futures: list[Any] = []  # the Dask futures
        self._bridges: list[cf.Future[PartitionResult]] = []
        self._count = 0
        self._cancelled = False
        self.client.subscribe_topic(self.topic, self._on_event)

    # -- set up ---------------------------------------------------------------------------

    def _check_workers(self) -> None:
        """Wait for a first worker; refuse a resource no worker declares (tasks would wait
        for ever)."""
        try:
            self.client.wait_for_workers(1, timeout=self.settings.timeout)
        except (TimeoutError, OSError) as exc:
            raise UsageError(
                f"no Dask worker joined {self.where()} within {self.settings.timeout:.0f} s ({exc})"
            ) from None
        resource = self.settings.resource
        if resource:
            info = self.client.scheduler_info(n_workers=-1)
            if not any((w.get("resources") or {}).get(resource) for w in info.get("workers", {}).values()):
                raise UsageError(
                    f"no Dask worker declares the resource {resource!r} (ADU_DASK_RESOURCE): start the workers "
                    f"with --resources '{resource}=N'"
                )

    def where(self) -> str:
        if self.settings.scheduler:
            return f"on the Dask cluster at {self.settings.scheduler}"
        return "on a Dask LocalCluster"

    def _marker(self, task: PartitionTask) -> str | None:
        """The marker file of the task's target (written now, once per target), or None
        when its sink writes no local files."""
        key = (task.sink_name, task.target)
        if key not in self._markers:
            sink = self.context.plugins.sink_class(task.sink_name)(
                task.target, dict(task.sink_options), job_id=task.job_id
            )
            shared = sink.shared_directory()
            path: str | None = None
            if shared is not None:
                marker = Path(shared) / f"{MARKER_PREFIX}{self._token[:8]}"
                marker.write_text(self._token + "\n", encoding="utf-8")
                path = str(marker)
            self._markers[key] = path
        return self._markers[key]

    # -- the engine's calls ---------------------------------------------------------------

    def submit(self, task: PartitionTask) -> cf.Future[PartitionResult]:
        ticket = JobTicket(
            key=self.key,
            job_id=self.context.job_id,
            plugins=self._plugins,
            secrets=self.context.secrets,
            log_path=self.context.log_path,
            log_level=self.context.log_level,
            marker=self._marker(task),
            token=self._token,
            topic=self.topic,
        )
        self._count += 1
        resources = {self.settings.resource: 1} if self.settings.resource else None
        future = self.client.submit(
            run_task,
            task,
            ticket,
            key=f"adu-{self.key}-{self._count:06d}-p{task.partition.index}",
            pure=False,
            retries=self.settings.retries,
            resources=resources,
        )
        bridge: cf.Future[PartitionResult] = cf.Future()
        bridge.set_running_or_notify_cancel()
        future.add_done_callback(lambda f: self._settle(f, task, bridge))
        self._futures.append(future)
        self._bridges.append(bridge)
        return bridge

    def _settle(self, future: Any, task: PartitionTask, bridge: cf.Future[PartitionResult]) -> None:
        """The Dask future is done: its result (or why it has none) into the bridge."""
        if bridge.done():
            return
        try:
            if future.cancelled():
                part = task.partition
                bridge.set_result(PartitionResult(part.table.qualified_name, part.index, cancelled=True))
                return
            bridge.set_result(future.result())
        except BaseException as exc:  # noqa: BLE001 - a lost worker (KilledWorker), a task that raised
            with contextlib.suppress(cf.InvalidStateError):
                bridge.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

    def _on_event(self, event: Any) -> None:
        """A progress event (``(time, [table, index, rows, bytes])``), in the client's loop."""
        try:
            _when, (table, index, rows, nbytes) = event
            self._messages.put(PartitionProgress(str(table), int(index), int(rows), int(nbytes)))
        except (TypeError, ValueError):
            log.debug("ignored a malformed progress event: %r", event)

    def cancel(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        try:
            self.client.run(cancel_job, self.key, on_error="ignore")
        except Exception:
            log.warning("could not reach the Dask workers to cancel job %s", self.context.job_id, exc_info=True)

    def progress(self) -> list[PartitionProgress]:
        out: list[PartitionProgress] = []
        while True:
            try:
                out.append(self._messages.get_nowait())
            except queue.Empty:
                return out

    def shutdown(self) -> None:
        try:
            pending = [b for b in self._bridges if not b.done()]
            if pending:
                # running tasks return soon after a cancel; the others are dropped
                cf.wait(pending, timeout=CANCEL_WAIT_SECONDS if self._cancelled else None)
            leftover = [f for f, b in zip(self._futures, self._bridges, strict=True) if not b.done()]
            if leftover:
                with contextlib.suppress(Exception):
                    self.client.cancel(leftover)
        finally:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)
            with contextlib.suppress(Exception):
                self.client.run(forget_job, self.key, on_error="ignore")
            self._futures.clear()
            self._bridges.clear()
