"""Coordinator: the running job's lease, and what it allows.

Every ``ADU_HEARTBEAT_SECONDS`` :meth:`JobLease.check` renews the job's lease in the store
(for ``ADU_STALE_SECONDS``) and looks for a cancel request. The lease is what makes a
run the job's one run: a table is published, and the manifest written, only while the
lease is *held* (renewed less than half a lease ago, :meth:`JobLease.held`), so a run
that lost its job — its lease expired during an outage of the store and another process
requeued it — can never publish over the run that has the job now.

While the store is unreachable the job goes on: its partitions write into staging, the
tables they complete wait (unpublished) until the lease is renewed again. After
``ADU_STORE_OUTAGE_SECONDS`` without the store the job stops cleanly (:attr:`gave_up`).
"""

from __future__ import annotations

import logging
import time

import attrs

from adu_core.errors import StoreUnavailable
from adu_core.store import Store

log = logging.getLogger("adu.engine")


@attrs.define
class JobLease:
    """The lease of job ``job_id`` held by claim ``worker_id`` (None: no claim to renew,
    e.g. a notebook running a job it did not claim: always held).

    :param interval: seconds between two looks at the store (``ADU_HEARTBEAT_SECONDS``).
    :param lease_seconds: the lease each renewal gives (``ADU_STALE_SECONDS``).
    :param outage_limit: seconds without the store before the job stops
        (``ADU_STORE_OUTAGE_SECONDS``).
    """

    store: Store
    job_id: str
    worker_id: str | None
    interval: float
    lease_seconds: float = 60.0
    outage_limit: float = 300.0
    last: float = float("-inf")
    renewed: float = attrs.field(factory=time.monotonic)  # the claim was just made
    unreachable_since: float | None = None
    lost: bool = False
    gave_up: bool = False

    def check(self, now: float, *, force: bool = False) -> tuple[int, str] | None:
        """Why the job must stop, as ``(log level, message)``; None while it goes on.

        Looks at most once per interval (unless ``force``), and renews the lease at every
        look (also while a cancelled job winds down, so it is not taken for dead meanwhile).
        """
        if not force and now - self.last < self.interval:
            return None
        self.last = now
        try:
            cancelled = self.store.cancel_requested(self.job_id)
            owned = self.worker_id is None or self.store.heartbeat(
                self.job_id, self.worker_id, lease_seconds=self.lease_seconds
            )
        except StoreUnavailable:
            return self._unreachable()
        if self.unreachable_since is not None:
            log.warning("job %s: the job store answers again; publishing resumes", self.job_id)
        self.unreachable_since = None
        if owned:
            self.renewed = time.monotonic()
        if cancelled:
            return logging.WARNING, "cancel requested: stopping every partition"
        if not owned:
            self.lost = True
            return logging.ERROR, "this job is no longer ours (its lease expired and it was taken back): stopping"
        return None

    def _unreachable(self) -> tuple[int, str] | None:
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
            return logging.ERROR, (
                f"the job store has been unreachable for {self.outage_limit:.0f} s: stopping "
                "(nothing more is published; the job is taken back when the store answers again)"
            )
        return None

    def held(self, now: float | None = None) -> bool:
        """True while this run may publish: its lease was renewed less than half a lease ago."""
        if self.worker_id is None:
            return True
        if self.lost or self.gave_up:
            return False
        return (time.monotonic() if now is None else now) - self.renewed < self.lease_seconds / 2

    def wait_held(self) -> bool:
        """Renew until the lease is held (True), or the job is lost or the outage lasts too
        long (False). Used before the manifest is written."""
        while True:
            self.check(time.monotonic(), force=True)
            if self.held():
                return True
            if self.lost or self.gave_up:
                return False
            time.sleep(min(self.interval, 1.0))
