"""Taking back jobs whose process died: whoever opens the store does it.

A running job holds a lease in the store, renewed by its heartbeat
(:mod:`adu_core.store.jobs`). When the process running it is killed, the lease runs out
and the next ADU process that opens the store — ``adu jobs list``, the web app, a worker
— reaps it (:func:`reap`): a worker's job is queued again to be completed, a foreground
``adu export``'s becomes ``stale`` with ``adu jobs retry`` as its next step, and in both
cases the dead attempt's staging is removed through its sink (:meth:`Sink.abandon`).

Reaping costs one indexed read when nothing expired; the sink plugins are loaded only
when a job was actually reaped.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adu_core.plugin.manager import Plugins
    from adu_core.store import ReapedJob, Store

log = logging.getLogger("adu.reaper")


def reap(store: Store, settings: Any, *, plugins: Plugins | None = None) -> list[ReapedJob]:
    """Requeue or mark stale every running job whose lease expired, and remove the staging
    of each dead attempt. Returns the reaped jobs."""
    reaped = store.reap_expired(max_attempts=getattr(settings, "job_attempts", 3))
    for job in reaped:
        log.warning(
            "job %s: its process (%s) stopped answering; %s",
            job.id,
            job.worker_id,
            "queued again" if job.requeued else "marked stale",
            extra={"job_id": job.id},
        )
        abandon_staging(job, plugins=plugins)
    return reaped


def abandon_staging(job: ReapedJob, *, plugins: Plugins | None = None) -> None:
    """Remove what the dead attempt of ``job`` left in its sink's staging (never raises)."""
    try:
        if plugins is None:
            from adu_core.plugin.manager import get_plugins

            plugins = get_plugins()
        if job.sink not in plugins.registry.sinks and job.sink in plugins.registry.load_sinks:
            return  # a load: its staging tables are dropped by the next load (no session holds them)
        sink = plugins.sink_class(job.sink)(job.target, dict(job.sink_options), job_id=job.id)
        sink.abandon()
    except Exception:
        log.warning("job %s: could not remove the dead attempt's staging", job.id, exc_info=True)


class Reaper:
    """:func:`reap` at most once every ``interval`` seconds (long-lived processes: the web
    app before a request, a worker between jobs)."""

    def __init__(self, store: Store, settings: Any, interval: float) -> None:
        self.store = store
        self.settings = settings
        self.interval = interval
        self._last = float("-inf")
        self._lock = threading.Lock()

    def maybe_reap(self, *, plugins: Plugins | None = None) -> list[ReapedJob]:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                return []
            self._last = now
        return reap(self.store, self.settings, plugins=plugins)
