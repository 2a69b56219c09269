"""Coordinator: the running job's lease, and what it allows.

A thread renews the job's lease in the store (for ``ADU_STALE_SECONDS``) every
``ADU_HEARTBEAT_SECONDS`` and looks for a cancel request, whatever the job is doing
(discovering thousands of tables, validating a large table, writing the manifest). The
lease is what makes a run the job's one run: a table is published, and the manifest
written, only while the lease is *held* (renewed less than half a lease ago,
:meth:`JobLease.held`), so a run that lost its job — its lease expired during an outage of
the store and another process requeued it — never publishes over the run that has it now.

While the store is unreachable the job goes on: its partitions write into staging, the
tables they complete wait (unpublished) until the lease is renewed again. After
``ADU_STORE_OUTAGE_SECONDS`` without the store the job stops cleanly (:attr:`gave_up`).
"""

from __future__ import annotations

import logging
import threading
import time

from adu_core.errors import StoreUnavailable
from adu_core.store import Store

log = logging.getLogger("adu.engine")


class JobLease:
    """The lease of job ``job_id`` held by claim ``worker_id`` (None: no claim to renew,
    e.g. a notebook running a job it did not claim: always held; cancel requests are
    still looked for).

    :param interval: seconds between two looks at the store (``ADU_HEARTBEAT_SECONDS``).
    :param lease_seconds: the lease each renewal gives (``ADU_STALE_SECONDS``).
    :param outage_limit: seconds without the store before the job stops
        (``ADU_STORE_OUTAGE_SECONDS``).
    """

    def __init__(
        self,
        store: Store,
        job_id: str,
        worker_id: str | None,
        interval: float,
        *,
        lease_seconds: float = 60.0,
        outage_limit: float = 300.0,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.worker_id = worker_id
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.outage_limit = outage_limit
        self.renewed = time.monotonic()  # the claim was just made
        self.unreachable_since: float | None = None
        self.cancelled = False
        self.lost = False
        self.gave_up = False
        self._told: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the renewing thread -------------------------------------------------------------

    def start(self) -> JobLease:
        """Renew in a thread of its own until :meth:`close`."""
        self._thread = threading.Thread(target=self._run, name=f"adu-lease-{self.job_id[:8]}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.store.retry_seconds + 1))
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.renew()
            if self.lost or self.gave_up:
                return

    def renew(self) -> None:
        """One look at the store: renew the lease, note a cancel request, a lost lease or
        an outage. Never raises."""
        try:
            cancelled = self.store.cancel_requested(self.job_id)
            owned = self.worker_id is None or self.store.heartbeat(
                self.job_id, self.worker_id, lease_seconds=self.lease_seconds
            )
        except StoreUnavailable:
            self._unreachable()
            return
        except Exception:
            log.warning("job %s: could not renew its lease", self.job_id, exc_info=True)
            return
        if self.unreachable_since is not None:
            log.warning("job %s: the job store answers again; publishing resumes", self.job_id)
        self.unreachable_since = None
        if owned:
            self.renewed = time.monotonic()
        self.cancelled = self.cancelled or cancelled
        if not owned:
            self.lost = True

    def _unreachable(self) -> None:
        now = time.monotonic()
        if self.unreachable_since is None:
            self.unreachable_since = now
            log.warning(
                "job %s: the job store is unreachable; partitions go on into staging, tables are published "
                "when it is back (stopping after %.0f s without it)",
                self.job_id,
                self.outage_limit,
            )
        if now - self.unreachable_since >= self.outage_limit:
            self.gave_up = True

    # -- what the run loop asks ----------------------------------------------------------

    def check(self) -> tuple[int, str] | None:
        """Why the job must stop, as ``(log level, message)``, the first time it is asked
        after it happened; None while it goes on."""
        if self.lost:
            return self._tell("lost", logging.ERROR, "this job is no longer ours (its lease expired): stopping")
        if self.gave_up:
            return self._tell(
                "gave_up",
                logging.ERROR,
                f"the job store has been unreachable for {self.outage_limit:.0f} s: stopping "
                "(nothing more is published; the job is taken back when the store answers again)",
            )
        if self.cancelled:
            return self._tell("cancelled", logging.WARNING, "cancel requested: stopping every partition")
        return None

    def _tell(self, what: str, level: int, message: str) -> tuple[int, str] | None:
        if what in self._told:
            return None
        self._told.add(what)
        return level, message

    def held(self, now: float | None = None) -> bool:
        """True while this run may publish: its lease was renewed less than half a lease ago."""
        if self.worker_id is None:
            return True
        if self.lost or self.gave_up:
            return False
        return (time.monotonic() if now is None else now) - self.renewed < self.lease_seconds / 2

    def wait_held(self) -> bool:
        """Wait until the lease is held (True), or the job is lost or the store has been
        away too long (False). Used before the manifest is written."""
        while not self.held():
            if self.lost or self.gave_up:
                return False
            if self._thread is None:
                self.renew()  # no thread (not started): look now
            time.sleep(min(self.interval, 0.5))
        return True
