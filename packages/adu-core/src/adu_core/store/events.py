"""A job's event history: what happened, in order, redacted before it is written."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from adu_core.secrets import redact_text
from adu_core.store.base import StoreBase
from adu_core.store.db import Connection
from adu_core.store.records import EventRow, JobEvent, loads

INSERT_EVENT = (
    "INSERT INTO events (job_id, ts, level, table_name, message, data)"
    " VALUES (:job_id, :ts, :level, :table_name, :message, :data)"
)


def insert_events(conn: Connection, job_id: str | None, job_events: Iterable[JobEvent]) -> None:
    """Write ``job_events`` of ``job_id`` in the transaction of ``conn``, in order, in one
    statement (an executemany: 200 small tables finishing together log 200 events)."""
    rows = [
        {
            "job_id": job_id,
            "ts": ev.ts,
            "level": ev.level.upper(),
            "table_name": ev.table,
            "message": redact_text(ev.message),
            "data": redact_text(json.dumps(ev.data, default=str)) if ev.data else None,
        }
        for ev in job_events
    ]
    if rows:
        conn.executemany(INSERT_EVENT, rows)


class EventStore(StoreBase):
    """The events part of :class:`adu_core.store.Store`."""

    def add_event(
        self,
        job_id: str | None,
        level: str,
        message: str,
        *,
        table: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one event (an audit line: who cancelled, who retried...)."""
        with self._tx() as conn:
            insert_events(conn, job_id, [JobEvent(level=level, message=message, table=table, data=data)])

    def list_events(self, job_id: str, *, limit: int = 200) -> list[EventRow]:
        with self.db.read() as conn:
            rs = conn.execute(
                "SELECT * FROM events WHERE job_id = :job_id ORDER BY id LIMIT :limit",
                {"job_id": job_id, "limit": limit},
            ).all()
        return [EventRow(r.id, r.job_id, r.ts, r.level, r.table_name, r.message, loads(r.data)) for r in rs]
