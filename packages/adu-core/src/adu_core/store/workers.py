"""Registered workers: which processes claim jobs, and when each was last heard from."""

from __future__ import annotations

import os
import socket
import time

import sqlalchemy as sa

from adu_core.store.base import StoreBase
from adu_core.store.records import WorkerRow
from adu_core.store.schema import workers


class WorkerStore(StoreBase):
    """The workers part of :class:`adu_core.store.Store`."""

    def register_worker(self, worker_id: str) -> None:
        """Announce this process as worker ``worker_id`` (replacing a stale entry of that name)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.id == worker_id))
            conn.execute(
                workers.insert().values(
                    id=worker_id, host=socket.gethostname(), pid=os.getpid(), started_at=now, heartbeat_at=now
                )
            )

    def worker_heartbeat(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute(workers.update().where(workers.c.id == worker_id).values(heartbeat_at=time.time()))

    def unregister_worker(self, worker_id: str) -> None:
        with self._tx() as conn:
            conn.execute(workers.delete().where(workers.c.id == worker_id))

    def list_workers(self) -> list[WorkerRow]:
        with self.engine.connect() as conn:
            rs = conn.execute(sa.select(workers).order_by(workers.c.started_at)).all()
        return [WorkerRow(r.id, r.host, r.pid, r.started_at, r.heartbeat_at) for r in rs]
