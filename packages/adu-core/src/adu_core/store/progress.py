"""A job's tables and partitions: the plan, the progress counters and the outcomes.

The engine buffers what happens between two progress ticks and writes it with
:meth:`ProgressStore.record_batch` in one transaction, so a job of hundreds of small
tables costs a few commits, not thousands. The job's totals (tables done and failed,
rows, bytes) are always recomputed from its tables in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adu_core.models import SourceInfo, TableInfo, TableStatus
from adu_core.store.base import StoreBase
from adu_core.store.db import Connection
from adu_core.store.events import insert_events
from adu_core.store.records import JobEvent, PartitionRecord, PartitionRow, TableRow, TableUpdate, loads

#: the job's counters (:func:`table_totals`) as the SET list of an UPDATE of ``jobs``
SET_TOTALS = (
    "tables_total = :tables_total, tables_done = :tables_done, tables_failed = :tables_failed,"
    " rows = :rows, bytes = :bytes"
)

#: the columns of ``job_tables`` a plan resets
_PLAN_COLUMNS = (
    "status",
    "rows",
    "bytes",
    "rows_estimate",
    "partitions_total",
    "partitions_done",
    "started_at",
    "finished_at",
    "error",
    "validation",
    "files",
    "entry",
)

_PARTITION_COLUMNS = ("job_id", "table_id", "idx", "status", "rows", "attempts", "spec", "error", "worker")


def update_totals(
    conn: Connection, job_id: str, extra: str = "", params: dict[str, Any] | None = None, *, where: str = ""
) -> int:
    """Write the job's counters (:func:`table_totals`), and the further assignments
    ``extra`` (``", col = :param…"``) with ``params``, to the job ``job_id`` (and ``where``:
    ``" AND …"``); the number of rows changed (0 or 1)."""
    values = {**table_totals(conn, job_id), **(params or {}), "job_id": job_id}
    sql = f"UPDATE jobs SET {SET_TOTALS}{extra} WHERE id = :job_id{where}"
    return conn.execute(sql, values).rowcount


def table_totals(conn: Connection, job_id: str) -> dict[str, int]:
    """The job's counters, summed from its tables."""
    rows = conn.execute("SELECT status, rows, bytes FROM job_tables WHERE job_id = :job_id", {"job_id": job_id}).all()
    done = sum(1 for r in rows if r.status == TableStatus.SUCCEEDED.value)
    failed = sum(1 for r in rows if r.status in (TableStatus.FAILED.value, TableStatus.CANCELLED.value))
    return {
        "tables_total": len(rows),
        "tables_done": done,
        "tables_failed": failed,
        "rows": sum(r.rows for r in rows),
        "bytes": sum(r.bytes for r in rows),
    }


def _table_ids(conn: Connection, job_id: str) -> dict[tuple[str, str], int]:
    return {
        (r.schema, r.name): r.id
        for r in conn.execute("SELECT id, schema, name FROM job_tables WHERE job_id = :job_id", {"job_id": job_id})
    }


def _update_tables(conn: Connection, job_id: str, updates: Sequence[TableUpdate]) -> None:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for update in updates:
        values = update.values()
        if values:
            groups.setdefault(tuple(sorted(values)), []).append(
                {"b_schema": update.schema, "b_name": update.name, **{f"v_{k}": v for k, v in values.items()}}
            )
    for keys, rows in groups.items():  # one executemany per shape of update
        assignments = ", ".join(f"{k} = :v_{k}" for k in keys)
        conn.executemany(
            f"UPDATE job_tables SET {assignments} WHERE job_id = :b_job_id AND schema = :b_schema AND name = :b_name",
            [{**row, "b_job_id": job_id} for row in rows],
        )


def _record_partitions(conn: Connection, job_id: str, partitions: Sequence[PartitionRecord]) -> None:
    """Replace the partitions' rows: one executemany for the deletes and one for the inserts
    (200 small tables finishing together cost two statements, not 400)."""
    ids = _table_ids(conn, job_id)
    rows: dict[tuple[int, int], dict[str, Any]] = {}  # the last record of a partition wins
    for part in partitions:
        table_id = ids.get((part.schema, part.name))
        if table_id is None:
            continue
        rows[(table_id, part.index)] = {
            "job_id": job_id,
            "table_id": table_id,
            "idx": part.index,
            "status": TableStatus(part.status).value,
            "rows": part.rows,
            "attempts": part.attempts,
            "spec": json.dumps(dict(part.spec), default=str) if part.spec else None,
            "error": json.dumps(part.error.to_dict()) if part.error is not None else None,
            "worker": part.worker,
        }
    if not rows:
        return
    conn.executemany(
        "DELETE FROM job_partitions WHERE table_id = :b_table_id AND idx = :b_idx",
        [{"b_table_id": t, "b_idx": i} for t, i in rows],
    )
    conn.executemany(
        f"INSERT INTO job_partitions ({', '.join(_PARTITION_COLUMNS)})"
        f" VALUES ({', '.join(':' + c for c in _PARTITION_COLUMNS)})",
        list(rows.values()),
    )


def _table_row(r: Any) -> TableRow:
    return TableRow(
        id=r.id,
        job_id=r.job_id,
        schema=r.schema,
        name=r.name,
        status=TableStatus(r.status),
        rows=r.rows,
        bytes=r.bytes,
        rows_estimate=r.rows_estimate,
        partitions_total=r.partitions_total,
        partitions_done=r.partitions_done,
        started_at=r.started_at,
        finished_at=r.finished_at,
        error=loads(r.error),
        validation=loads(r.validation),
        files=loads(r.files),
        entry=loads(r.entry),
    )


class ProgressStore(StoreBase):
    """The tables-and-partitions part of :class:`adu_core.store.Store`."""

    def set_job_plan(self, job_id: str, source: SourceInfo, plan: Sequence[tuple[TableInfo, int]]) -> None:
        """Record the tables a job will export (with their partition counts)."""
        with self._tx() as conn:
            existing = _table_ids(conn, job_id)
            estimate = 0
            updates, inserts = [], []
            for table, n_parts in plan:
                estimate += table.row_estimate or 0
                values = dict.fromkeys(_PLAN_COLUMNS)
                values.update(
                    status=TableStatus.PENDING.value,
                    rows=0,
                    bytes=0,
                    rows_estimate=table.row_estimate,
                    partitions_total=n_parts,
                    partitions_done=0,
                )
                key = (table.schema, table.name)
                if key in existing:
                    updates.append({**values, "id": existing[key]})
                else:
                    inserts.append({**values, "job_id": job_id, "schema": table.schema, "name": table.name})
            conn.executemany(
                f"UPDATE job_tables SET {', '.join(f'{c} = :{c}' for c in _PLAN_COLUMNS)} WHERE id = :id",
                updates,
            )
            columns = ("job_id", "schema", "name", *_PLAN_COLUMNS)
            conn.executemany(
                f"INSERT INTO job_tables ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
                inserts,
            )
            update_totals(
                conn,
                job_id,
                ", source_info = :source_info, rows_estimate = :rows_estimate",
                {"source_info": json.dumps(source.to_dict()), "rows_estimate": estimate or None},
            )

    def record_batch(
        self,
        job_id: str,
        *,
        tables: Sequence[TableUpdate] = (),
        partitions: Sequence[PartitionRecord] = (),
        log_events: Sequence[JobEvent] = (),
        worker_id: str | None = None,
    ) -> bool:
        """Apply table updates, partition records and events of one job in one transaction.

        :param worker_id: the caller's claim: nothing is written (False) unless the job is
            still that claim's running job, so a run that lost its job (reaped, requeued,
            run elsewhere) never overwrites the records of the run that has it now.
        """
        with self._tx() as conn:
            if worker_id is not None:
                owner = conn.execute(
                    "SELECT id FROM jobs WHERE id = :id AND worker_id = :worker_id AND status = 'running'",
                    {"id": job_id, "worker_id": worker_id},
                ).first()
                if owner is None:
                    return False
            _update_tables(conn, job_id, tables)
            if partitions:
                _record_partitions(conn, job_id, partitions)
            insert_events(conn, job_id, log_events)
            if tables or partitions:
                update_totals(conn, job_id)
        return True

    def list_tables(self, job_id: str) -> list[TableRow]:
        with self.db.read() as conn:
            rs = conn.execute("SELECT * FROM job_tables WHERE job_id = :job_id ORDER BY id", {"job_id": job_id}).all()
        return [_table_row(r) for r in rs]

    def list_partitions(self, job_id: str) -> list[PartitionRow]:
        with self.db.read() as conn:
            rs = conn.execute(
                "SELECT p.idx, p.status, p.rows, p.attempts, p.spec, p.error, p.worker, t.schema, t.name"
                " FROM job_partitions p JOIN job_tables t ON t.id = p.table_id"
                " WHERE p.job_id = :job_id ORDER BY p.table_id, p.idx",
                {"job_id": job_id},
            ).all()
        return [
            PartitionRow(
                table=f"{r.schema}.{r.name}",
                index=r.idx,
                status=r.status,
                rows=r.rows,
                attempts=r.attempts,
                spec=loads(r.spec),
                error=loads(r.error),
                worker=r.worker,
            )
            for r in rs
        ]
