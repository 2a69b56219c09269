"""Workers: claim queued jobs from the store and run them.

``adu worker`` runs :meth:`Worker.run` in its own process; ``adu serve`` starts
``ADU_WORKERS`` of them in threads beside the web app. Claiming is atomic in the store,
so any number of workers (on any number of hosts sharing a PostgreSQL store) can run.
"""

from __future__ import annotations

import logging
import threading

from adu_core import config as config_mod
from adu_core.engine import run_job
from adu_core.errors import AduError
from adu_core.plugin.manager import Plugins, get_plugins
from adu_core.store import Store, worker_identity

log = logging.getLogger("adu.worker")


class Worker:
    """Claims and runs jobs one at a time.

    :param mp_start: start method of the partition pools; ``forkserver`` is safe in a
        threaded server process (``fork`` is not).
    """

    def __init__(
        self,
        store: Store,
        settings: config_mod.Settings | None = None,
        *,
        plugins: Plugins | None = None,
        worker_id: str | None = None,
        mp_start: str | None = "forkserver",
    ) -> None:
        self.store = store
        self.settings = settings or config_mod.load()
        self.plugins = plugins or get_plugins()
        self.worker_id = worker_id or worker_identity()
        self.mp_start = mp_start

    def run_one(self) -> bool:
        """Mark dead workers' jobs stale, claim one queued job and run it; False when idle."""
        self.store.mark_stale(self.settings.stale_seconds)
        job = self.store.claim_job(self.worker_id)
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
            )
        except AduError as exc:
            log.warning("job %s failed: %s", job.id, exc, extra={"job_id": job.id})
        except Exception:
            log.exception("job %s crashed", job.id, extra={"job_id": job.id})
        return True

    def run(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Run jobs until ``stop`` is set (a running job is finished first)."""
        self.store.register_worker(self.worker_id)
        try:
            while not stop.is_set():
                ran = self.run_one()
                self.store.worker_heartbeat(self.worker_id)
                if not ran:
                    stop.wait(poll_seconds)
        finally:
            self.store.unregister_worker(self.worker_id)


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
