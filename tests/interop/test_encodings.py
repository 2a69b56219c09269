"""Spark and DuckDB read every encoding ADU's Parquet writer chooses (adu_parquet.encodings).

The zoo's tables are too small for the string trial (every string column stays PLAIN
there), so this writes a table big enough for it: shared-prefix text (DELTA_BYTE_ARRAY),
high-entropy text such as uuids as text (DELTA_LENGTH_BYTE_ARRAY), ordinary text (PLAIN),
integers and timestamps (DELTA_BINARY_PACKED) and doubles (BYTE_STREAM_SPLIT).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from adu_parquet.options import ParquetOptions
from adu_parquet.writer import ParquetPartitionWriter

N = 40_000


def _table() -> pa.Table:
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rng = random.Random(19)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    return pa.table(
        {
            "id": pa.array(range(N), pa.int64()),
            "at": pa.array([base + dt.timedelta(seconds=7 * i) for i in range(N)], pa.timestamp("us", "UTC")),
            "score": pa.array([i * 0.25 for i in range(N)], pa.float64()),
            "ref": pa.array([f"order-{i:08d}/line" for i in range(N)]),
            "u": pa.array([str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(N)]),
            "words": pa.array([" ".join(words[(i * j) % 8] for j in range(1, 2 + i % 9)) for i in range(N)]),
            # the portable profile's uuid (16 plain bytes) and a boolean (written without statistics)
            "ub": pa.array([uuid.UUID(int=rng.getrandbits(128)).bytes for _ in range(N)], pa.binary(16)),
            "flag": pa.array([None if i % 7 == 0 else i % 3 == 0 for i in range(N)], pa.bool_()),
        }
    )


def test_spark_and_duckdb_read_every_chosen_encoding(spark: Any, tmp_path: Path) -> None:
    table = _table()
    writer = ParquetPartitionWriter(
        root=tmp_path, staging_dir=tmp_path, stem="p", schema=table.schema, options=ParquetOptions()
    )
    for batch in table.to_batches(max_chunksize=8192):
        writer.write(batch)
    (result,) = writer.close()
    path = tmp_path / result.path
    meta = pq.read_metadata(path)
    chosen = {
        meta.row_group(0).column(c).path_in_schema: set(meta.row_group(0).column(c).encodings) - {"RLE"}
        for c in range(meta.num_columns)
    }
    assert chosen["ref"] == {"DELTA_BYTE_ARRAY"} and chosen["u"] == {"DELTA_LENGTH_BYTE_ARRAY"}, chosen
    assert chosen["id"] == chosen["at"] == {"DELTA_BINARY_PACKED"} and chosen["score"] == {"BYTE_STREAM_SPLIT"}

    assert not meta.row_group(0).column(meta.schema.names.index("flag")).is_stats_set
    assert meta.row_group(0).column(meta.schema.names.index("ub")).is_stats_set

    rows = spark.read.parquet(str(path)).orderBy("id").collect()
    for name in ("id", "score", "ref", "u", "words", "flag"):
        assert [r[name] for r in rows] == table.column(name).to_pylist(), name
    assert [bytes(r["ub"]) for r in rows] == table.column("ub").to_pylist()
    assert [r["at"].replace(tzinfo=dt.UTC) for r in rows] == table.column("at").to_pylist()

    from adu_core import duck

    con = duck.connect()
    try:
        got = con.execute(
            "SELECT list(u ORDER BY id), list(ref ORDER BY id), list(ub ORDER BY id), list(flag ORDER BY id)"
            " FROM read_parquet($p)",
            {"p": str(path)},
        )
        u, ref, ub, flag = got.fetchone() or ([], [], [], [])
    finally:
        con.close()
    assert u == table.column("u").to_pylist() and ref == table.column("ref").to_pylist()
    assert ub == table.column("ub").to_pylist() and flag == table.column("flag").to_pylist()
