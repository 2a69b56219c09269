"""Workers: claim queued jobs from the store and run them.

``adu worker`` runs a :class:`WorkerPool` in its own process; ``adu serve`` runs one beside
the web app. Claiming is atomic in the store, so any number of workers (on any number of
hosts sharing a PostgreSQL store) can run. A worker:

* reaps expired leases before it claims (:mod:`adu_core.reaper`): a job whose worker died
  goes back to the queue and is completed;
* survives an outage of the store: its calls retry (:mod:`adu_core.store.resilience`),
  and when they give up it waits and tries again, logging nothing more;
* survives whatever a job raises — even ``SystemExit`` from a validator — recording the
  job failed;
* on shutdown (:meth:`WorkerPool.close`) lets its running job finish for a grace period,
  then stops it and puts it back in the queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from adu_core import config as config_mod
from adu_core.engine import run_job
from adu_core.errors import AduError, JobLost, StoreUnavailable
from adu_core.plugin.manager import Plugins, get_plugins
from adu_core.reaper import Reaper
from adu_core.store import Store, worker_identity

log = logging.getLogger("adu.worker")

#: longest wait between two looks at an unreachable store, in seconds
MAX_IDLE_BACKOFF = 5.0


class Worker:
    """Claims and runs jobs one at a time.

    :param mp_start: start method of the partition pools; ``forkserver`` is safe in a
        threaded server process (``fork`` is not).
    :param shutdown: when set, a running job stops and goes back to the queue.
    """

    def __init__(
        self,
        store: Store,
        settings: config_mod.Settings | None = None,
        *,
        plugins: Plugins | None = None,
        worker_id: str | None = None,
        mp_start: str | None = "forkserver",
        shutdown: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or config_mod.load()
        self.plugins = plugins or get_plugins()
        self.worker_id = worker_id or worker_identity()
        self.mp_start = mp_start
        self.shutdown = shutdown or threading.Event()
        self.reaper = Reaper(store, self.settings, interval=self.settings.heartbeat_seconds)

    def run_one(self) -> bool:
        """Reap expired leases, claim one queued job and run it; False when idle.

        :raises StoreUnavailable: the store did not answer (nothing was claimed).
        """
        self.reaper.maybe_reap()
        job = self.store.claim_job(self.worker_id, lease_seconds=self.settings.stale_seconds)
        if job is None:
            return False
        log.info("worker %s runs job %s", self.worker_id, job.id, extra={"job_id": job.id})
        try:
            run_job(
                self.store,
                job.id,
                settings=self.settings,
                plugins=self.plugins,
                mp_start=self.mp_start,
                worker_id=self.worker_id,
                shutdown=self.shutdown,
            )
        except (JobLost, StoreUnavailable) as exc:
            log.warning("job %s stopped: %s", job.id, exc, extra={"job_id": job.id})
        except AduError as exc:
            log.warning("job %s failed: %s", job.id, exc, extra={"job_id": job.id})
        except BaseException:
            log.exception("job %s crashed", job.id, extra={"job_id": job.id})
        return True

    def run(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Run jobs until ``stop`` is set (a running job is finished first, unless
        :attr:`shutdown` is set too)."""
        self._call(self.store.register_worker, self.worker_id)
        backoff = poll_seconds
        waiting = False
        try:
            while not stop.is_set():
                try:
                    ran = self.run_one()
                    self.store.worker_heartbeat(self.worker_id)
                except StoreUnavailable:
                    if not waiting:  # once per outage, as the store logs it
                        log.warning("worker %s: waiting for the job store to answer again", self.worker_id)
                        waiting = True
                    stop.wait(backoff)  # longer and longer, up to a few seconds
                    backoff = min(backoff * 2, MAX_IDLE_BACKOFF)
                    continue
                waiting = False
                backoff = poll_seconds
                if not ran:
                    stop.wait(poll_seconds)
        finally:
            self._call(self.store.unregister_worker, self.worker_id)

    @staticmethod
    def _call(fn: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(StoreUnavailable):  # the registry is informational
            fn(*args)


class WorkerPool:
    """``count`` worker threads in this process, restarted if one dies.

    :attr:`stop` makes them claim nothing more; :attr:`shutdown` makes a running job stop
    and go back to the queue (see :meth:`close`).
    """

    def __init__(
        self,
        store: Store,
        settings: config_mod.Settings,
        count: int,
        *,
        plugins: Plugins | None = None,
        mp_start: str | None = "forkserver",
        name: str = "adu-worker",
    ) -> None:
        self.store = store
        self.settings = settings
        self.count = count
        self.plugins = plugins
        self.mp_start = mp_start
        self.name = name
        self.stop = threading.Event()
        self.shutdown = threading.Event()
        self.threads: list[threading.Thread] = []
        self.restarts = 0

    def _thread(self, i: int) -> threading.Thread:
        w = Worker(self.store, self.settings, plugins=self.plugins, mp_start=self.mp_start, shutdown=self.shutdown)

        def run() -> None:
            try:
                w.run(self.stop)
            except BaseException:
                log.exception("worker %s stopped on an error", w.worker_id)

        t = threading.Thread(target=run, name=f"{self.name}-{i}", daemon=True)
        t.start()
        return t

    def start(self) -> WorkerPool:
        self.threads = [self._thread(i) for i in range(self.count)]
        return self

    def alive(self) -> int:
        """Worker threads running now."""
        return sum(1 for t in self.threads if t.is_alive())

    def supervise(self) -> int:
        """Restart the worker threads that died (unless stopping); returns how many."""
        if self.stop.is_set():
            return 0
        restarted = 0
        for i, t in enumerate(self.threads):
            if not t.is_alive():
                log.error("worker thread %s died; restarting it", t.name)
                self.threads[i] = self._thread(i)
                restarted += 1
        self.restarts += restarted
        return restarted

    def close(self, grace: float) -> bool:
        """Stop: running jobs get ``grace`` seconds to finish, then are stopped and
        requeued. True when every thread ended."""
        self.stop.set()
        deadline = time.monotonic() + grace
        for t in self.threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            log.warning("jobs still running after %.0f s: stopping them; they go back to the queue", grace)
            self.shutdown.set()
            for t in self.threads:
                t.join(timeout=max(30.0, grace))
        return not any(t.is_alive() for t in self.threads)


def start_embedded_workers(
    store: Store, settings: config_mod.Settings, count: int, stop: threading.Event
) -> list[threading.Thread]:
    """Start ``count`` worker threads (the zero-setup mode of ``adu serve``)."""
    threads = []
    for i in range(count):
        w = Worker(store, settings)
        t = threading.Thread(target=w.run, args=(stop,), name=f"adu-worker-{i}", daemon=True)
        t.start()
        threads.append(t)
    return threads
