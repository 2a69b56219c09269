"""Parquet sink throughput: ADU's writer at several codecs/levels vs pyarrow's one-shot
writer and DuckDB's own Parquet writer, plus verify (hashing) throughput.

Run by hand (never a timed test)::

    .venv/bin/python bench/parquet_sink.py [ROWS]

The data imitates the design's 11-column table (bigint, int, numeric(12,2), text,
varchar, timestamptz, date, bool, uuid, jsonb, double), generated deterministically and
cached in /tmp as Arrow IPC. Prints wall time, MB/s of Arrow data in, and file size.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from adu_core.models import ColumnInfo, Partition, TableInfo
from adu_core.verify import verify_export
from adu_parquet.sink import ParquetSink

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
CACHE = Path(tempfile.gettempdir()) / f"adu-bench-{ROWS}.arrow"
BATCH = 65_536

COLUMNS = (
    ColumnInfo("id", "bigint", pa.int64(), False),
    ColumnInfo("qty", "integer", pa.int32()),
    ColumnInfo("price", "numeric(12,2)", pa.decimal128(12, 2)),
    ColumnInfo("note", "text", pa.string()),
    ColumnInfo("code", "varchar(16)", pa.string()),
    ColumnInfo("at", "timestamptz", pa.timestamp("us", tz="UTC")),
    ColumnInfo("day", "date", pa.date32()),
    ColumnInfo("flag", "boolean", pa.bool_()),
    ColumnInfo("uid", "uuid", pa.string()),
    ColumnInfo("doc", "jsonb", pa.string()),
    ColumnInfo("score", "double precision", pa.float64()),
)
TABLE = TableInfo("public", "bench", COLUMNS)


def make_data() -> pa.Table:
    if CACHE.exists():
        with pa.memory_map(str(CACHE)) as src:
            return pa.ipc.open_file(src).read_all()
    rnd = random.Random(42)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    batches = []
    for lo in range(0, ROWS, BATCH):
        n = min(BATCH, ROWS - lo)
        ids = range(lo, lo + n)
        batches.append(
            pa.record_batch(
                [
                    pa.array(ids, pa.int64()),
                    pa.array([rnd.randint(0, 1000) for _ in ids], pa.int32()),
                    pa.array([Decimal(rnd.randint(0, 10_000_000)) / 100 for _ in ids], pa.decimal128(12, 2)),
                    pa.array([" ".join(rnd.choices(words, k=rnd.randint(2, 8))) for _ in ids]),
                    pa.array([f"C{rnd.randint(0, 5000):05d}" for _ in ids]),
                    pa.array(
                        [base + dt.timedelta(seconds=rnd.randint(0, 10**8)) for _ in ids], pa.timestamp("us", tz="UTC")
                    ),
                    pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=rnd.randint(0, 2000)) for _ in ids], pa.date32()),
                    pa.array([rnd.random() < 0.5 for _ in ids]),
                    pa.array([str(uuid.UUID(int=rnd.getrandbits(128))) for _ in ids]),
                    pa.array([f'{{"k": {rnd.randint(0, 99)}, "w": "{rnd.choice(words)}"}}' for _ in ids]),
                    pa.array([rnd.random() * 1000 for _ in ids]),
                ],
                schema=TABLE.arrow_schema(),
            )
        )
    table = pa.Table.from_batches(batches)
    with pa.OSFile(str(CACHE), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return table


def adu_write(table: pa.Table, out: Path, options: dict) -> tuple[float, int]:
    sink = ParquetSink(str(out), options, job_id="bench")
    sink.prepare(overwrite=False)
    t0 = time.perf_counter()
    w = sink.open_partition(Partition(TABLE, 0, 1))
    for b in table.to_batches(max_chunksize=BATCH):
        w.write(b)
    files = w.close()  # includes fsync + sha256 of every file
    elapsed = time.perf_counter() - t0
    sink.close()
    return elapsed, sum(f.bytes for f in files)


def row(label: str, secs: float, mb_in: float, out_bytes: int) -> None:
    print(f"{label:<22} {secs:6.2f} s  {mb_in / secs:7.0f} MB/s  {out_bytes / 1e6:7.1f} MB out")


def main() -> None:
    table = make_data()
    mb = table.nbytes / 1e6
    print(f"{ROWS:,} rows, {mb:,.0f} MB of Arrow data, {os.cpu_count()} CPU(s)")
    root = Path(tempfile.mkdtemp(prefix="adu-bench-"))
    try:
        runs = [
            ("adu zstd-1", {"compression": "zstd", "compression_level": 1}),
            ("adu zstd-3", {"compression": "zstd", "compression_level": 3}),
            ("adu zstd-6", {"compression": "zstd", "compression_level": 6}),
            ("adu snappy", {"compression": "snappy"}),
            ("adu lz4", {"compression": "lz4"}),
            ("adu none", {"compression": "none"}),
        ]
        for label, opts in runs:
            best = min(adu_write(table, root / f"{label}-{i}".replace(" ", "_"), opts) for i in range(2))
            row(label, best[0], mb, best[1])
        # pyarrow one-shot (no staging, no fsync, no hash)
        t0 = time.perf_counter()
        pq.write_table(table, root / "pa.parquet", compression="zstd", compression_level=1, row_group_size=122_880)
        e = time.perf_counter() - t0
        row("pyarrow write_table z1", e, mb, (root / "pa.parquet").stat().st_size)
        # DuckDB's own Parquet writer from the same Arrow data (1 and all threads)
        for threads in (1, os.cpu_count() or 1):
            con = duckdb.connect(config={"threads": threads})
            con.register("t", table)
            path = root / f"duck{threads}.parquet"
            t0 = time.perf_counter()
            quoted = "'" + str(path).replace("'", "''") + "'"
            con.execute(f"COPY t TO {quoted} (FORMAT parquet, COMPRESSION zstd)")
            e = time.perf_counter() - t0
            con.close()
            row(f"duckdb COPY {threads} thr", e, mb, path.stat().st_size)
        _verify_bench(table, root, mb)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _verify_bench(table: pa.Table, root: Path, mb: float) -> None:
    import datetime as _dt

    from adu_core.manifest import build_manifest
    from adu_core.models import PartitionResult, SourceInfo, TableResult, TableStatus

    exp = root / "export"
    sink = ParquetSink(str(exp), {"max_file_bytes": "16MiB"}, job_id="bench")
    sink.prepare(overwrite=False)
    w = sink.open_partition(Partition(TABLE, 0, 1))
    for b in table.to_batches(max_chunksize=BATCH):
        w.write(b)
    files, _ = sink.publish_table(TABLE, [PartitionResult("public.bench", 0, files=w.close())])
    tr = TableResult(
        "public", "bench", TableStatus.SUCCEEDED, rows=ROWS, bytes=sum(f.bytes for f in files), files=files
    )
    sink.finalize(
        build_manifest(
            job_id="bench",
            adu_version="0",
            source=SourceInfo("x://", "x"),
            sink="parquet",
            tables=[(TABLE, tr)],
            created_at=_dt.datetime.now(_dt.UTC),
        )
    )
    sink.close()
    size = sum(f.bytes for f in files) / 1e6
    for workers in (1, 2, 4):
        t0 = time.perf_counter()
        report = verify_export(exp, workers=workers)
        e = time.perf_counter() - t0
        assert report.ok, report.lines()
        print(f"{f'verify {workers} thread(s)':<22} {e:6.2f} s  {size / e:7.0f} MB/s of files ({len(files)} files)")


if __name__ == "__main__":
    main()
