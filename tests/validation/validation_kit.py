"""Helpers for the validation tests: tables, batches, validators, report lookups."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from adu_core.models import ColumnInfo, TableInfo
from adu_pandera import PanderaTableValidator, PanderaValidator


def people_table(**overrides: Any) -> TableInfo:
    """public.people: a small table with a primary key and one column of each kind."""
    columns = (
        ColumnInfo("id", "bigint", pa.int64(), nullable=False),
        ColumnInfo("age", "integer", pa.int32()),
        ColumnInfo("email", "text", pa.string()),
        ColumnInfo("country", "character varying(2)", pa.string(), properties={"max_length": 2}),
        ColumnInfo("balance", "numeric(12,2)", pa.decimal128(12, 2), properties={"precision": 12, "scale": 2}),
        ColumnInfo("born", "date", pa.date32()),
        ColumnInfo("seen", "timestamp with time zone", pa.timestamp("us", "UTC")),
        ColumnInfo("active", "boolean", pa.bool_()),
        ColumnInfo("score", "double precision", pa.float64()),
    )
    kw: dict[str, Any] = {"columns": columns, "primary_key": ("id",)}
    kw.update(overrides)
    return TableInfo("public", "people", **kw)


def batch_of(table: TableInfo, rows: dict[str, list[Any]]) -> pa.RecordBatch:
    """A batch of ``table``'s schema; columns not given are all null."""
    n = len(next(iter(rows.values())))
    schema = table.arrow_schema()
    arrays = [pa.array(rows.get(f.name, [None] * n), type=f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([f.with_nullable(True) for f in schema]))


def table_validator(
    table: TableInfo, rules: str | None = None, *, infer: bool = True, tables: Sequence[TableInfo] | None = None
) -> PanderaTableValidator:
    """The table validator as a worker receives it (checked, then pickled)."""
    v = PanderaValidator({"rules": rules, "infer": infer})
    v.check_rules(list(tables) if tables is not None else [table])
    tv = v.for_table(table)
    assert tv is not None
    return pickle.loads(pickle.dumps(tv))


def failed_list(verdict: Any, n: int) -> list[bool]:
    return [False] * n if verdict.failed is None else verdict.failed.to_pylist()


def reasons_list(verdict: Any, n: int) -> list[list[str]]:
    return [[] for _ in range(n)] if verdict.reasons is None else verdict.reasons.to_pylist()


def check_of(report: Any, check: str, column: str | None) -> Any:
    found = [c for c in report.checks if c.check == check and c.column == column]
    assert len(found) == 1, [(c.check, c.column) for c in report.checks]
    return found[0]
