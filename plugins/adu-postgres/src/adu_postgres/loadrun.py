"""Load a table's Parquet files into PostgreSQL in one call (scripts, tests, benchmarks).

:func:`load_table` does what the load job's sink will do with the engine: prepare the
table, COPY its parts over ``parallel`` connections at once (threads: reading Parquet,
encoding and sending all release the GIL), then publish. A part is one Parquet file, or a
run of row groups of one when there are fewer files than connections.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
from adu_core.models import TableInfo

from adu_postgres.connection import close_quietly, connect
from adu_postgres.loader import LoadResult, TableLoad
from adu_postgres.partload import PartitionLoad

DEFAULT_BATCH_ROWS = 32768
#: Parquet pages are read through a buffer of this size instead of whole column chunks
#: (measured: ~100 MB less per reading thread on the 3M-row mixed table)
READ_BUFFER = 1 << 16


@attrs.frozen
class Part:
    """A slice of a table's data: a file, or some of its row groups."""

    path: str
    row_groups: tuple[int, ...] | None = None

    @property
    def name(self) -> str:
        base = os.path.basename(self.path)
        if self.row_groups is None:
            return base
        return f"{base}#{self.row_groups[0]}-{self.row_groups[-1]}"


def plan_parts(files: Sequence[str | os.PathLike[str]], parallel: int) -> list[Part]:
    """One part per file; files cut into runs of row groups when there are fewer files
    than connections (so every connection has work)."""
    paths = [str(f) for f in files]
    if len(paths) >= parallel:
        return [Part(p) for p in paths]
    per_file = -(-parallel // max(1, len(paths)))
    parts = []
    for p in paths:
        groups = pq.ParquetFile(p).metadata.num_row_groups
        n = min(per_file, groups)
        if n <= 1:
            parts.append(Part(p))
            continue
        step = -(-groups // n)
        parts.extend(Part(p, tuple(range(lo, min(groups, lo + step)))) for lo in range(0, groups, step))
    return parts


def placeholders(table: TableInfo, data_schema: pa.Schema | None) -> set[str]:
    """The hidden columns an export adds to a table without columns (field metadata
    ``adu.placeholder``, or the column's ``placeholder`` property): loaders drop them."""
    names = {c.name for c in table.columns if (c.properties or {}).get("placeholder")}
    for f in data_schema or ():
        if (f.metadata or {}).get(b"adu.placeholder") == b"true":
            names.add(f.name)
    return names


def original_names(table: TableInfo, data_schema: pa.Schema | None) -> TableInfo:
    """``table`` with the names the portable profile suffixed (case-insensitive
    collisions, ``adu.original_name`` / ``properties["original_name"]``) restored, in its
    columns and keys."""
    fields = list(data_schema) if data_schema is not None and len(data_schema) == len(table.columns) else []
    back: dict[str, str] = {}
    for i, col in enumerate(table.columns):
        meta = (fields[i].metadata or {}) if fields else {}
        original = (col.properties or {}).get("original_name") or (
            meta[b"adu.original_name"].decode() if b"adu.original_name" in meta else None
        )
        if original and original != col.name:
            back[col.name] = str(original)
    if not back:
        return table
    return attrs.evolve(
        table,
        columns=tuple(attrs.evolve(c, name=back.get(c.name, c.name)) for c in table.columns),
        primary_key=tuple(back.get(c, c) for c in table.primary_key),
        unique_keys=tuple(tuple(back.get(c, c) for c in u) for u in table.unique_keys),
    )


def _load_parts(
    load: TableLoad,
    parts: queue.Queue[Part],
    errors: list[BaseException],
    stop: threading.Event,
    batch_rows: int,
    text_format: bool | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """One connection's work: take parts until none is left (or another thread failed).
    ``progress`` is called with the rows of each batch sent."""
    conn = None
    try:
        conn = connect(load.url, load.options, application_name="adu load")
        while not stop.is_set():
            try:
                part = parts.get_nowait()
            except queue.Empty:
                return
            pf = pq.ParquetFile(part.path, buffer_size=READ_BUFFER, pre_buffer=False)
            hidden = placeholders(load.table, pf.schema_arrow)
            keep = [f.name for f in pf.schema_arrow if f.name not in hidden] if hidden else None
            data_schema = pf.schema_arrow if keep is None else pa.schema([pf.schema_arrow.field(n) for n in keep])
            writer = PartitionLoad(
                load.url,
                load.table,
                schema=load.schema,
                stage=load.stage,
                part=part.name,
                conn=conn,
                data_schema=data_schema,
                options=load.options,
                text_format=text_format,
            )
            try:
                if not writer.skipped:
                    batches = pf.iter_batches(
                        batch_size=batch_rows, row_groups=part.row_groups, columns=keep, use_threads=False
                    )
                    for batch in batches:
                        if stop.is_set():
                            writer.abort()
                            return
                        writer.write(batch)
                        if progress is not None:
                            progress(batch.num_rows)
                writer.close()
            except BaseException:
                writer.abort()
                raise
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        errors.append(exc)
        stop.set()
    finally:
        close_quietly(conn)


def load_table(
    url: str,
    table: TableInfo,
    files: Sequence[str | os.PathLike[str]],
    *,
    job_id: str,
    if_exists: str = "fail",
    schema_map: Mapping[str, str] | None = None,
    parallel: int = 2,
    options: Mapping[str, Any] | None = None,
    expected_rows: int | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    text_format: bool | None = None,
    cancel: Any = None,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load ``table`` from its Parquet ``files`` into the PostgreSQL database at ``url``.

    :param parallel: connections COPYing into the staging table at once.
    :param expected_rows: the row count the export recorded (checked before publishing).
    :param text_format: force COPY's text format (see :class:`PartitionLoad`).
    :param cancel: an event-like object (``is_set()``): set, the load stops, the target
        unchanged (:class:`~adu_core.errors.Cancelled`).
    :param progress: called (from the loading threads) with the rows of each batch sent.
    :raises LoadError: the load failed; the target is as it was.
    """
    data_schema = pq.read_schema(files[0]) if files else None
    hidden = placeholders(table, data_schema)
    if hidden:  # the export's hidden column of a table without columns: never loaded
        table = attrs.evolve(table, columns=tuple(c for c in table.columns if c.name not in hidden))
        if data_schema is not None:
            data_schema = pa.schema([f for f in data_schema if f.name not in hidden])
    table = original_names(table, data_schema)
    load = TableLoad(
        url,
        table,
        job_id=job_id,
        if_exists=if_exists,
        schema_map=schema_map,
        options=options,
        data_schema=data_schema,
    )
    load.prepare()
    try:
        if not table.columns:  # rows without columns: only their number travels
            load.stage_empty_rows(sum(pq.ParquetFile(f).metadata.num_rows for f in files))
            return load.publish(expected_rows=expected_rows)
        todo: queue.Queue[Part] = queue.Queue()
        done = load.done_parts()
        for part in plan_parts([Path(f) for f in files], max(1, parallel)):
            if part.name not in done:
                todo.put(part)
        errors: list[BaseException] = []
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_load_parts,
                args=(load, todo, errors, stop, batch_rows, text_format, progress),
                name=f"adu-load-{i}",
            )
            for i in range(max(1, min(parallel, todo.qsize())))
        ]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
                if cancel is not None and cancel.is_set():
                    stop.set()
        if errors:
            raise errors[0]
        if cancel is not None and cancel.is_set():
            from adu_core.errors import Cancelled

            raise Cancelled(f"loading {load.label} was cancelled; the target is unchanged")
        return load.publish(expected_rows=expected_rows)
    except BaseException:
        load.discard()
        raise
