"""One snapshot for every partition of every table of a job."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pytest
from adu_core.errors import SourceError
from adu_core.plugin.components import NeverCancelled
from adu_postgres.source import PostgresSource
from pg_helpers import find, open_source, read_table


def _read_partition(url: str, options: dict, part, snap: dict) -> pa.Table:
    """What a pool worker does: its own source instance, its own connection."""
    source = PostgresSource(url, options)
    batches = list(source.read(part, snapshot=snap, batch_rows=5000, cancel=NeverCancelled()))
    source.close()
    return pa.Table.from_batches(batches, schema=part.table.arrow_schema())


@pytest.fixture
def two_tables(pg_db):
    pg_db.execute(
        "CREATE TABLE a (id int PRIMARY KEY, v text);"
        "CREATE TABLE b (id int PRIMARY KEY, a_id int);"
        "INSERT INTO a SELECT g, repeat('v', 100) FROM generate_series(1, 20000) g;"
        "INSERT INTO b SELECT g, g FROM generate_series(1, 20000) g;"
    )
    return pg_db


def test_concurrent_writes_do_not_show(two_tables) -> None:
    db = two_tables
    options = {"partition_mb": 0.2}
    source = open_source(db.dsn, **options)
    tables = source.discover()
    ta, tb = find(tables, "public.a"), find(tables, "public.b")
    with source.snapshot() as snap:
        # other sessions write to both tables after the snapshot, between the tables' reads
        db.execute(
            "INSERT INTO a SELECT g, 'new' FROM generate_series(20001, 25000) g;"
            "UPDATE a SET v = 'changed' WHERE id <= 100;"
            "DELETE FROM b WHERE id % 2 = 0;"
        )
        parts = source.partitions(ta, target=3) + source.partitions(tb, target=3)
        assert len(parts) > 2
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
            results = list(
                pool.map(_read_partition, [db.dsn] * len(parts), [options] * len(parts), parts, [snap] * len(parts))
            )
        json.dumps(snap)  # the token goes into the manifest
    a_rows = pa.concat_tables(r for r, p in zip(results, parts, strict=True) if p.table.name == "a")
    b_rows = pa.concat_tables(r for r, p in zip(results, parts, strict=True) if p.table.name == "b")
    assert a_rows.num_rows == 20000
    assert set(a_rows.column("v").to_pylist()) == {"v" * 100}
    assert b_rows.num_rows == 20000
    # without the snapshot, the writes are visible (the test can tell the difference)
    assert read_table(source, ta).num_rows == 25000
    assert read_table(source, tb).num_rows == 10000


def test_token_has_no_secret_and_names_the_point_in_time(pg) -> None:
    source = open_source(pg.dsn)
    with source.snapshot() as snap:
        text = json.dumps(snap)
        assert pg.password not in text
        assert snap["snapshot"] and "/" in snap["lsn"] and snap["isolation"] == "repeatable read"
        assert snap["server_time"].endswith("Z")


def test_snapshot_ends_with_the_job(two_tables) -> None:
    source = open_source(two_tables.dsn)
    table = find(source.discover(), "public.b")
    with source.snapshot() as snap:
        pass
    with pytest.raises(SourceError, match="snapshot") as err:
        read_table(source, table, snapshot=snap)
    assert not err.value.retryable
