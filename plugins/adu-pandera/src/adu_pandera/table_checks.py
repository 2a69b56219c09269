"""Checks over a whole table, run with DuckDB on the staged Parquet files after the write.

Uniqueness must hold across batches and partitions, which no single worker sees, so it
is checked once all partitions are staged and before the table is published:

* ``primary_key`` / ``unique_key`` (inferred from the source's constraints) and
  ``unique: true`` columns: key values held by more than one row. As in SQL, a key with a
  NULL in it is never a duplicate. ``failed_rows`` counts every row of a duplicated key;
  samples give the key and how many rows hold it.
* ``rows: {min, max}``: the row count (from the Parquet footers). ``failed_rows`` is how
  many rows are missing (below ``min``) or too many (above ``max``).
* ``unique_values_eq``: the expected values that never occur (row-level values outside
  the set are caught per batch). ``failed_rows`` is the number of missing values.

Identifiers are quoted as identifiers and the file list is a bound parameter: nothing
from a rules file or a source becomes SQL text unquoted.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from adu_core.models import CheckResult

from adu_pandera.checks import CheckSpec

#: most samples kept per check.
MAX_SAMPLES = 20


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB (SQL standard) quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def run(specs: Sequence[CheckSpec], files: Sequence[str]) -> list[CheckResult]:
    """Run the whole-table ``specs`` over the Parquet ``files`` of one table."""
    if not specs:
        return []
    from adu_core import duck

    con = duck.connect(":memory:", threads=2)
    try:
        return [_one(con, spec, list(files)) for spec in specs]
    finally:
        con.close()


def _one(con: Any, spec: CheckSpec, files: list[str]) -> CheckResult:
    if spec.name == "rows":
        return _rows(spec, files)
    if not files:
        return CheckResult(check=spec.label, column=spec.column)
    if spec.name in ("primary_key", "unique_key", "unique"):
        return _duplicates(con, spec, files)
    if spec.builtin == "unique_values_eq":
        return _missing_values(con, spec, files)
    raise ValueError(f"not a whole-table check: {spec.name}")


def _rows(spec: CheckSpec, files: list[str]) -> CheckResult:
    import pyarrow.parquet as pq

    count = sum(pq.read_metadata(f).num_rows for f in files)
    lo, hi = spec.kwargs.get("min"), spec.kwargs.get("max")
    short = 0
    if lo is not None and count < lo:
        short = lo - count
    elif hi is not None and count > hi:
        short = count - hi
    samples = [{"rows": count, "min": lo, "max": hi}] if short else []
    return CheckResult(check=spec.label, column=None, failed_rows=short, samples=samples)


def _duplicates(con: Any, spec: CheckSpec, files: list[str]) -> CheckResult:
    cols = [str(c) for c in spec.kwargs["columns"]]
    keys = ", ".join(quote_ident(c) for c in cols)
    not_null = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in cols)
    sql = (
        f"WITH d AS (SELECT {keys}, count(*) AS _adu_rows FROM read_parquet($files) "
        f"WHERE {not_null} GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT (SELECT coalesce(sum(_adu_rows), 0) FROM d) AS total, * FROM d "
        f"ORDER BY {keys} LIMIT {MAX_SAMPLES}"
    )
    rows = con.execute(sql, {"files": files}).fetchall()
    if not rows:
        return CheckResult(check=spec.label, column=spec.column)
    total = int(rows[0][0])
    samples = [
        {"key": {c: jsonable(v) for c, v in zip(cols, row[1:-1], strict=True)}, "rows": int(row[-1])} for row in rows
    ]
    return CheckResult(check=spec.label, column=spec.column, failed_rows=total, samples=samples)


def _missing_values(con: Any, spec: CheckSpec, files: list[str]) -> CheckResult:
    col = quote_ident(str(spec.column))
    sql = f"SELECT DISTINCT {col} FROM read_parquet($files) WHERE {col} IS NOT NULL"
    seen = {row[0] for row in con.execute(sql, {"files": files}).fetchall()}
    missing = [v for v in spec.kwargs["values"] if v not in seen]
    samples = [{"missing": jsonable(v)} for v in missing[:MAX_SAMPLES]]
    return CheckResult(check=spec.label, column=spec.column, failed_rows=len(missing), samples=samples)


def jsonable(value: Any) -> Any:
    """``value`` in a form JSON (the store, the manifest) keeps exactly."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)
