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
#: keys grouped per DuckDB pass of the duplicate check: bounds the coordinator's memory
#: (3M bigint keys grouped at once took it from ~80 to ~310 MB, in passes of 500k to ~170 MB;
#: DuckDB's memory_limit
#: does not make this aggregate spill, it fails it)
KEYS_PER_PASS = 500_000


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
        return _row_count(spec, files)
    if not files:
        return CheckResult(check=spec.label, column=spec.column)
    if spec.name in ("primary_key", "unique_key", "unique"):
        return _duplicates(con, spec, files)
    if spec.builtin == "unique_values_eq":
        return _missing_values(con, spec, files)
    raise ValueError(f"not a whole-table check: {spec.name}")


def _row_count(spec: CheckSpec, files: list[str]) -> CheckResult:
    count = _rows(files)
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
    passes = max(1, -(-_rows(files) // KEYS_PER_PASS))
    total = 0
    found: list[tuple[Any, ...]] = []
    for i in range(passes):
        # one share of the keys per pass (by hash: a key's rows all fall in one pass), so
        # DuckDB's hash table holds at most about KEYS_PER_PASS keys whatever the table's size
        share = f" AND hash({keys}) % {passes} = {i}" if passes > 1 else ""
        sql = (
            f"SELECT sum(_adu_rows) OVER () AS total, * FROM (SELECT {keys}, count(*) AS _adu_rows "
            f"FROM read_parquet($files) WHERE {not_null}{share} GROUP BY ALL HAVING count(*) > 1) "
            f"ORDER BY {keys} LIMIT {MAX_SAMPLES}"
        )
        rows = _fetch(con, sql, files)
        if rows:
            total += int(rows[0][0])
            found.extend(rows)
    if not found:
        return CheckResult(check=spec.label, column=spec.column)
    found.sort(key=lambda row: row[1:-1])
    samples = [
        {"key": {c: jsonable(v) for c, v in zip(cols, row[1:-1], strict=True)}, "rows": int(row[-1])}
        for row in found[:MAX_SAMPLES]
    ]
    return CheckResult(check=spec.label, column=spec.column, failed_rows=total, samples=samples)


def _fetch(con: Any, sql: str, files: list[str]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` as tuples, through Arrow (DuckDB's own conversion of
    ``timestamptz`` values needs pytz, which ADU does not install)."""
    table = con.execute(sql, {"files": files}).fetch_arrow_table()
    return list(zip(*(col.to_pylist() for col in table.columns), strict=True))


def _rows(files: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)


def _missing_values(con: Any, spec: CheckSpec, files: list[str]) -> CheckResult:
    col = quote_ident(str(spec.column))
    sql = f"SELECT DISTINCT {col} FROM read_parquet($files) WHERE {col} IS NOT NULL"
    seen = {row[0] for row in _fetch(con, sql, files)}
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
