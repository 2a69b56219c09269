"""Helpers shared by the sink, manifest and verify tests: run tables through the real
Parquet sink the way the engine does (prepare, workers write, publish, manifest last)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from adu_core.manifest import build_manifest
from adu_core.models import (
    ColumnInfo,
    Partition,
    PartitionResult,
    SourceInfo,
    TableInfo,
    TableResult,
    TableStatus,
    ValidationReport,
)
from adu_parquet.sink import ParquetSink

SOURCE = SourceInfo(
    url="postgresql://alice:s3cret-pw@db.example:5432/prod",
    kind="postgresql",
    server_version="15.4",
    consistency={"snapshot": "00000003-0000001B-1", "lsn": "0/1A2B3C"},
)
CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def int_table(schema: str = "public", name: str = "items") -> TableInfo:
    return TableInfo(
        schema=schema,
        name=name,
        columns=(
            ColumnInfo("id", "bigint", pa.int64(), nullable=False),
            ColumnInfo("label", "text", pa.string()),
            ColumnInfo("price", "numeric(12,2)", pa.decimal128(12, 2)),
        ),
        primary_key=("id",),
        ddl=f'CREATE TABLE "{schema}"."{name}" (id bigint NOT NULL, label text, price numeric(12,2))',
    )


def make_batches(table: TableInfo, rows: int, batch_rows: int = 1000, start: int = 0) -> list[pa.RecordBatch]:
    from decimal import Decimal

    out = []
    schema = pa.schema([pa.field(c.name, c.arrow_type, c.nullable) for c in table.columns])
    for lo in range(start, start + rows, batch_rows):
        hi = min(lo + batch_rows, start + rows)
        ids = list(range(lo, hi))
        out.append(
            pa.record_batch(
                [
                    pa.array(ids, pa.int64()),
                    pa.array([f"item {i} ✓" if i % 7 else None for i in ids]),
                    pa.array([Decimal(i) / 100 for i in ids], pa.decimal128(12, 2)),
                ],
                schema=schema,
            )
        )
    return out


def export_tables(
    target: Path,
    tables: Sequence[tuple[TableInfo, Sequence[Sequence[pa.RecordBatch]]]],
    *,
    options: Mapping[str, Any] | None = None,
    job_id: str = "job-1",
    sign_key: str | None = None,
    overwrite: bool = False,
    quarantine: Mapping[str, Sequence[Sequence[pa.RecordBatch]]] | None = None,
) -> tuple[dict[str, Any], ParquetSink]:
    """Export ``tables`` (each with one batch list per partition) into ``target``; returns
    the manifest's JSON-ready dict and the sink."""
    sink = ParquetSink(str(target), options, job_id=job_id)
    sink.prepare(overwrite=overwrite)
    done = []
    for table, partitions in tables:
        results = []
        for i, batches in enumerate(partitions):
            # a separate sink instance, as in a worker process
            worker = ParquetSink(str(target), options, job_id=job_id)
            part = Partition(table=table, index=i, count=len(partitions))
            w = worker.open_partition(part)
            for b in batches:
                w.write(b)
            files = w.close()
            qfiles = []
            for qb_list in (quarantine or {}).get(table.qualified_name, [])[i : i + 1]:
                qw = worker.open_partition(part, quarantine=True)
                for qb in qb_list:
                    qw.write(qb)
                qfiles = qw.close()
            results.append(
                PartitionResult(
                    table=table.qualified_name,
                    index=i,
                    rows=sum(f.rows for f in files),
                    files=files,
                    quarantine_files=qfiles,
                )
            )
        files, qfiles = sink.publish_table(table, results)
        tr = TableResult(
            schema=table.schema,
            name=table.name,
            status=TableStatus.SUCCEEDED,
            rows=sum(f.rows for f in files),
            bytes=sum(f.bytes for f in files),
            files=files,
        )
        if qfiles:
            tr.validation = ValidationReport(
                mode="quarantine", quarantined_rows=sum(f.rows for f in qfiles), quarantine_files=qfiles
            )
        done.append((table, tr))
    manifest = build_manifest(
        job_id=job_id, adu_version="0.1.0", source=SOURCE, sink="parquet", tables=done, created_at=CREATED
    )
    sink.finalize(manifest, sign_key=sign_key)
    sink.close()
    return manifest.to_dict(), sink
