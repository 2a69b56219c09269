"""Helpers of the incremental tests: exports through the real engine, rows read back."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from adu_core.engine import submit_and_run
from adu_core.models import JobResult, JobSpec, JobStatus, TableSelection


def export(store: Any, db: Any, password: str, out: Path, tables: tuple[str, ...], **kw: Any) -> JobResult:
    """One export job through the real engine (threads), asserting it succeeded."""
    spec = JobSpec(
        source=db.dsn,
        target=str(out),
        selection=TableSelection(tables=tables),
        parallel=2,
        validate=False,
        **kw,
    )
    result = submit_and_run(store, spec, password=password, executor="thread")
    assert result.status == JobStatus.SUCCEEDED, [(t.qualified_name, t.error) for t in result.tables]
    return result


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def read(out: Path, schema: str, name: str) -> pa.Table:
    files = sorted((out / schema / name).glob("*.parquet"))
    if not files:
        return pa.table({})
    return pa.concat_tables(pq.read_table(f) for f in files)


def ids(out: Path, schema: str, name: str, column: str = "id") -> Counter[Any]:
    t = read(out, schema, name)
    return Counter(t.column(column).to_pylist()) if t.num_columns else Counter()
