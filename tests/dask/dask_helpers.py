"""What the Dask executor tests share: the table sizes, one export, its checks.

The tables are the benchmarks' ``mixed`` table (``bench/pg_tables.py``) at
``ADU_DASK_TEST_ROWS`` rows (default 300,000: a tenth of the benchmark's 3M, so the
suite stays short on two cores; set it to 3000000 for the issue's full size) and a schema
of 200 small tables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from adu_core.engine import submit_and_run
from adu_core.models import JobResult, JobSpec, JobStatus, TableSelection
from adu_core.verify import verify_export

ROWS = int(os.environ.get("ADU_DASK_TEST_ROWS", "300000"))
SMALL_TABLES = 200
SMALL_ROWS = 300


def export(
    store: Any,
    db: Any,
    password: str,
    out: Path,
    *,
    schemas=(),
    tables=(),
    parallel: int = 2,
    partition_mb: int = 8,
    **source_options: Any,
) -> JobResult:
    spec = JobSpec(
        source=db.dsn,
        target=str(out),
        selection=TableSelection(schemas=tuple(schemas), tables=tuple(tables)),
        parallel=parallel,
        validate=True,
        source_options={"partition_mb": partition_mb, **source_options},  # several partitions even at 300,000 rows
    )
    return submit_and_run(store, spec, password=password, executor="dask")


def check(result: JobResult, out: Path, store: Any, expected_rows: int) -> set[str]:
    """The export succeeded, verifies, holds ``expected_rows``; returns the workers that
    ran its partitions (as recorded in the store)."""
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables if t.error]
    report = verify_export(out)
    assert report.ok, report.problems
    assert sum(t.rows for t in result.tables) == expected_rows
    parts = store.list_partitions(result.job_id)
    assert parts and all(p.worker for p in parts), parts
    return {p.worker for p in parts}
