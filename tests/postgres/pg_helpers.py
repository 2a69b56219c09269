"""Helpers for the PostgreSQL source tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from adu_core.models import TableInfo
from adu_core.plugin.components import NeverCancelled
from adu_postgres.source import PostgresSource

ZOO_SQL = (Path(__file__).parent / "zoo.sql").read_text()


def open_source(url: str, **options: Any) -> PostgresSource:
    return PostgresSource(url, options)


def find(tables: Sequence[TableInfo], qualified_name: str) -> TableInfo:
    for t in tables:
        if t.qualified_name == qualified_name:
            return t
    raise AssertionError(f"{qualified_name} not discovered; got {[t.qualified_name for t in tables]}")


def read_table(
    source: PostgresSource,
    table: TableInfo,
    *,
    target: int = 1,
    snapshot: dict[str, Any] | None = None,
    batch_rows: int = 10_000,
) -> pa.Table:
    """Every partition of ``table`` read and concatenated (checking the schema of every batch)."""
    schema = table.arrow_schema()
    batches = []

    def _read(snap: dict[str, Any]) -> None:
        for part in source.partitions(table, target=target):
            for b in source.read(part, snapshot=snap, batch_rows=batch_rows, cancel=NeverCancelled()):
                assert b.schema.equals(schema, check_metadata=True)
                batches.append(b)

    if snapshot is None:
        with source.snapshot() as snap:
            _read(snap)
    else:
        _read(snapshot)
    return pa.Table.from_batches(batches, schema=schema)
