"""The store writes of a running job, buffered between two progress ticks.

A job of hundreds of small tables finishes many tables a second; writing each change at
once would cost a commit each (and lock a SQLite store shared with the web app). The
runner records changes here and :meth:`BufferedRecorder.flush` writes them together in one
transaction (:meth:`adu_core.store.Store.record_batch`), at every progress tick and before
the job's end is recorded.
"""

from __future__ import annotations

from adu_core.store import JobEvent, PartitionRecord, Store, TableUpdate


class BufferedRecorder:
    """Table updates, partition records and events of one job, waiting for :meth:`flush`."""

    def __init__(self, store: Store, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self._tables: dict[tuple[str, str], TableUpdate] = {}
        self._partitions: list[PartitionRecord] = []
        self._events: list[JobEvent] = []

    def table(self, update: TableUpdate) -> None:
        """Change some columns of a table (merged with its pending change)."""
        pending = self._tables.get(update.key)
        self._tables[update.key] = update if pending is None else pending.merge(update)

    def partition(self, record: PartitionRecord) -> None:
        self._partitions.append(record)

    def event(self, event: JobEvent) -> None:
        self._events.append(event)

    def flush(self) -> None:
        """Write everything pending in one transaction (nothing when nothing is pending)."""
        if not (self._tables or self._partitions or self._events):
            return
        tables, partitions, events = list(self._tables.values()), self._partitions, self._events
        self._tables, self._partitions, self._events = {}, [], []
        self.store.record_batch(self.job_id, tables=tables, partitions=partitions, log_events=events)
