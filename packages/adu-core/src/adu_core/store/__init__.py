"""The job store: jobs, tables, partitions, events and workers; web accounts are
:mod:`adu_core.store.accounts` (``store.accounts``).

SQLite by default (WAL mode and a busy timeout, so the web process and several workers
share it safely); PostgreSQL by URL for several hosts. The store runs its queries as SQL
text on the drivers themselves, the standard library's :mod:`sqlite3` or psycopg2
(:mod:`~adu_core.store.db`: connections kept for the process, transactions, rows with
attribute access), with no SQLAlchemy at run time. A new store is created from plain DDL
(:mod:`~adu_core.store.ddl`) at the latest revision; SQLAlchemy and Alembic are imported
only to upgrade an older store (:mod:`~adu_core.store.upgrade`), and
:mod:`~adu_core.store.schema` (SQLAlchemy tables) is the definition the migrations and the
DDL are checked against, by the tests. All times are UNIX seconds (floats).

:class:`Store` is thin: each part lives in its own module, as a mixin over
:class:`~adu_core.store.base.StoreBase` (the connections, write transactions, the schema's
version):

* :mod:`~adu_core.store.jobs`: a job's life cycle (create, claim, heartbeat, reap,
  cancel, finish, retry) and its secret;
* :mod:`~adu_core.store.progress`: the plan, tables and partitions of a job, and the
  buffered writes of a running one (:meth:`Store.record_batch`);
* :mod:`~adu_core.store.events`: a job's event history;
* :mod:`~adu_core.store.workers`: the registered workers;
* :mod:`~adu_core.store.watermarks`: where the cursor columns of incremental exports stood;
* :mod:`~adu_core.store.records`: the typed rows and updates they exchange;
* :mod:`~adu_core.store.resilience`: every public method retried through an outage of the
  store (``ADU_STORE_RETRY_SECONDS``), the outage logged once.
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
    ReapedJob,
    TableRow,
    TableUpdate,
    WorkerRow,
)
from adu_core.store.resilience import Outage, resilient
from adu_core.store.watermarks import ExportLink, WatermarkStore, source_identity
from adu_core.store.workers import WorkerStore

__all__ = [
    "Accounts",
    "EventRow",
    "ExportLink",
    "JobEvent",
    "JobRow",
    "PartitionRecord",
    "PartitionRow",
    "ReapedJob",
    "Store",
    "TableRow",
    "TableUpdate",
    "WorkerRow",
    "new_job_id",
    "source_identity",
    "worker_identity",
]


@resilient
class Store(JobStore, ProgressStore, EventStore, WorkerStore, WatermarkStore):
    """Access to the job store.

    :param url: the store's URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    :param retry_seconds: how long a call retries while the store is unreachable.
    """

    def __init__(
        self, url: str, *, secret_key: str | None = None, migrate: bool = True, retry_seconds: float = 10.0
    ) -> None:
        super().__init__(url, secret_key=secret_key, migrate=migrate, retry_seconds=retry_seconds)
        #: web accounts (:mod:`adu_core.store.accounts`), retried through outages as well
        self.accounts: Accounts = _ResilientAccounts(self)


@resilient
class _ResilientAccounts(Accounts):
    """:class:`Accounts` whose calls survive an outage of the store, as the store's do."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.db, store._tx)
        self._store = store

    @property
    def outage(self) -> Outage:
        return self._store.outage

    @property
    def retry_seconds(self) -> float:
        return self._store.retry_seconds
