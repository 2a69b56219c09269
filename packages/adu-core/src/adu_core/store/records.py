"""Typed records between the store and its callers.

*Rows* are what the store reads back (:class:`JobRow`, :class:`TableRow`,
:class:`PartitionRow`, :class:`EventRow`, :class:`WorkerRow`); *updates* are what the engine
writes (:class:`TableUpdate`, :class:`PartitionRecord`, :class:`JobEvent`). JSON columns are
decoded to plain dicts in rows (the frontends render them) and encoded from the models in
updates, here and nowhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import attrs

from adu_core.models import ErrorInfo, FileResult, JobSpec, JobStatus, TableStatus, ValidationReport


def loads(text: str | None) -> Any:
    """A JSON column's value (None for NULL)."""
    return json.loads(text) if text else None


def _as_dict(row: Any) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in attrs.fields(type(row))}


# ------------------------------------------------------------------------------ rows


@attrs.frozen
class JobRow:
    """A job as the store holds it (never with its secret)."""

    id: str
    name: str | None
    status: JobStatus
    spec: JobSpec
    source: str
    target: str
    created_by: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    worker_id: str | None
    attempt: int
    lease_expires_at: float | None
    foreground: bool
    requeues: int
    cancel_requested: bool
    tables_total: int
    tables_done: int
    tables_failed: int
    rows: int
    bytes: int
    rows_estimate: int | None
    error: dict[str, Any] | None
    source_info: dict[str, Any] | None
    manifest_path: str | None
    has_secret: bool
    #: ``export`` or ``load``
    kind: str = "export"

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    @property
    def rows_per_second(self) -> float | None:
        d = self.duration
        return self.rows / d if d and d > 0 else None

    @property
    def progress(self) -> float | None:
        """0..1 from rows against the source's estimate, or tables done."""
        if self.status == JobStatus.SUCCEEDED:
            return 1.0
        if self.rows_estimate:
            return min(1.0, self.rows / self.rows_estimate)
        if self.tables_total:
            return self.tables_done / self.tables_total
        return None

    def to_dict(self) -> dict[str, Any]:
        data = _as_dict(self)
        data["status"] = self.status.value
        data["spec"] = self.spec.to_dict()
        data["duration"] = self.duration
        data["rows_per_second"] = self.rows_per_second
        data["progress"] = self.progress
        return data


@attrs.frozen
class TableRow:
    """One table of a job: its status, counts and outcome."""

    id: int
    job_id: str
    schema: str
    name: str
    status: TableStatus
    rows: int
    bytes: int
    rows_estimate: int | None
    partitions_total: int
    partitions_done: int
    started_at: float | None
    finished_at: float | None
    error: dict[str, Any] | None
    validation: dict[str, Any] | None
    files: list[dict[str, Any]] | None
    entry: dict[str, Any] | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    def to_dict(self) -> dict[str, Any]:
        data = _as_dict(self)
        data["status"] = self.status.value
        data["duration"] = self.duration
        return data


@attrs.frozen
class PartitionRow:
    """One finished partition of a job's table.

    :param worker: where it ran: ``host:pid`` for the built-in executors, the executor's
        own name for its workers otherwise (None for records older than the column).
    """

    table: str
    index: int
    status: str
    rows: int
    attempts: int
    spec: dict[str, Any] | None
    error: dict[str, Any] | None
    worker: str | None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@attrs.frozen
class EventRow:
    id: int
    job_id: str | None
    ts: float
    level: str
    table: str | None
    message: str
    data: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@attrs.frozen
class WorkerRow:
    """A registered worker process (``adu worker`` or an embedded one of ``adu serve``)."""

    id: str
    host: str | None
    pid: int | None
    started_at: float
    heartbeat_at: float

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@attrs.frozen
class ReapedJob:
    """A running job whose lease expired, as the reaper left it.

    :param requeued: True when it went back to the queue (a worker's job with attempts
        left); False when it was marked ``stale``.
    :param worker_id: the claim that expired (who was running it).
    """

    id: str
    target: str
    sink: str
    sink_options: Mapping[str, Any]
    requeued: bool
    worker_id: str | None


# --------------------------------------------------------------------------- updates


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


@attrs.frozen
class TableUpdate:
    """New values for some columns of a job's table; None leaves a column as it is."""

    schema: str
    name: str
    status: TableStatus | None = None
    rows: int | None = None
    bytes: int | None = None
    partitions_done: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: ErrorInfo | None = None
    validation: ValidationReport | None = None
    files: tuple[FileResult, ...] | None = None
    #: the table's manifest entry, once it is published
    entry: Mapping[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    def merge(self, later: TableUpdate) -> TableUpdate:
        """This update followed by ``later`` (its set fields win)."""
        changes = {k: v for k, v in _as_dict(later).items() if v is not None and k not in ("schema", "name")}
        return attrs.evolve(self, **changes)

    def values(self) -> dict[str, Any]:
        """The column values this update sets (JSON columns encoded)."""
        out: dict[str, Any] = {}
        for key, value in _as_dict(self).items():
            if value is None or key in ("schema", "name"):
                continue
            if key == "status":
                value = TableStatus(value).value
            elif key in ("error", "validation"):
                value = _json(value.to_dict())
            elif key == "files":
                value = _json([f.to_dict() for f in value])
            elif key == "entry":
                value = _json(dict(value))
            out[key] = value
        return out


@attrs.frozen
class PartitionRecord:
    """A partition that has finished (succeeded, failed or cancelled).

    :param spec: the source's description of the partition (ctid range, ...).
    :param worker: where it ran (see :class:`PartitionRow`).
    """

    schema: str
    name: str
    index: int
    status: TableStatus
    rows: int = 0
    attempts: int = 1
    spec: Mapping[str, Any] = attrs.field(factory=dict)
    error: ErrorInfo | None = None
    worker: str | None = None


@attrs.frozen
class JobEvent:
    """One line of a job's event history (redacted by the store before it is written)."""

    level: str
    message: str
    table: str | None = None
    data: Mapping[str, Any] | None = None
    ts: float = attrs.field(factory=time.time)
