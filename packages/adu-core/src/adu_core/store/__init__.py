"""The job store: jobs, tables, partitions, events and workers; web accounts are
:mod:`adu_core.store.accounts` (``store.accounts``).

SQLite by default (WAL mode and a busy timeout, so the web process and several workers
share it safely); PostgreSQL by URL for several hosts. The schema is migrated with Alembic
on open. All times are UNIX seconds (floats).

:class:`Store` is thin: each part lives in its own module, as a mixin over
:class:`~adu_core.store.base.StoreBase` (the engine, write transactions, migrations):

* :mod:`~adu_core.store.jobs`: a job's life cycle (create, claim, heartbeat, reap,
  cancel, finish, retry) and its secret;
* :mod:`~adu_core.store.progress`: the plan, tables and partitions of a job, and the
  buffered writes of a running one (:meth:`Store.record_batch`);
* :mod:`~adu_core.store.events`: a job's event history;
* :mod:`~adu_core.store.workers`: the registered workers;
* :mod:`~adu_core.store.records`: the typed rows and updates they exchange.
"""

from __future__ import annotations

from adu_core.store.accounts import Accounts
from adu_core.store.events import EventStore
from adu_core.store.jobs import JobStore, new_job_id, worker_identity
from adu_core.store.progress import ProgressStore
from adu_core.store.records import (
    EventRow,
    JobEvent,
    JobRow,
    PartitionRecord,
    PartitionRow,
    TableRow,
    TableUpdate,
    WorkerRow,
)
from adu_core.store.workers import WorkerStore

__all__ = [
    "Accounts",
    "EventRow",
    "JobEvent",
    "JobRow",
    "PartitionRecord",
    "PartitionRow",
    "Store",
    "TableRow",
    "TableUpdate",
    "WorkerRow",
    "new_job_id",
    "worker_identity",
]


class Store(JobStore, ProgressStore, EventStore, WorkerStore):
    """Access to the job store.

    :param url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    """

    def __init__(self, url: str, *, secret_key: str | None = None, migrate: bool = True) -> None:
        super().__init__(url, secret_key=secret_key, migrate=migrate)
        #: web accounts (:mod:`adu_core.store.accounts`)
        self.accounts = Accounts(self.engine, self._tx)
