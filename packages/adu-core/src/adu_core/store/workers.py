"""Registered workers: which processes claim jobs, and when each was last heard from."""

from __future__ import annotations

import os
import socket
import time

from adu_core.store.base import StoreBase
from adu_core.store.records import WorkerRow


class WorkerStore(StoreBase):
    """The workers part of :class:`adu_core.store.Store`."""

    def register_worker(self, worker_id: str) -> None:
        """Announce this process as worker ``worker_id`` (replacing a stale entry of that name)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute("DELETE FROM workers WHERE id = :id", {"id": worker_id})
            conn.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat_at)"
                " VALUES (:id, :host, :pid, :started_at, :heartbeat_at)",
                {
                    "id": worker_id,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "started_at": now,
                    "heartbeat_at": now,
                },
            )

    def worker_heartbeat(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE workers SET heartbeat_at = :now WHERE id = :id", {"now": time.time(), "id": worker_id})

    def unregister_worker(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM workers WHERE id = :id", {"id": worker_id})

    def list_workers(self) -> list[WorkerRow]:
        with self.db.read() as conn:
            rs = conn.execute("SELECT * FROM workers ORDER BY started_at").all()
        return [WorkerRow(r.id, r.host, r.pid, r.started_at, r.heartbeat_at) for r in rs]

    def count_live_workers(self, within_seconds: float) -> int:
        """Registered workers heard from in the last ``within_seconds`` (idle ones every
        poll, busy ones at every renewal of their job's lease)."""
        with self.db.read() as conn:
            since = time.time() - within_seconds
            return int(
                conn.execute("SELECT count(*) FROM workers WHERE heartbeat_at >= :since", {"since": since}).scalar_one()
            )
