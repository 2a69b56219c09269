"""Where the CPU goes, column type by column type: ADU's data path in stages against DuckDB.

Run by hand (never from the tests)::

    .venv/bin/python bench/pg_types_profile.py [--rows 3000000] [--rounds 3] [--types qty,amount,...]

For each per-type table of ``bench/pg_tables.py`` (the bigint key plus one column of issue
19's wide table; ``type_id`` is the key alone), in one process and one thread, partitions
one after the other (so the CPU of each stage is measured alone, deterministic enough on
a busy machine):

* ``read``: ``PostgresSource.read`` of 2 ctid partitions (binary COPY decoded in C into
  Arrow), batches kept in memory; ``server`` is the PostgreSQL backends' CPU for it;
* ``validate``: the inferred pandera checks on every batch (the whole-table key check too);
* ``write``: ADU's Parquet writer (default options: zstd 1, the encodings of
  ``adu_parquet.encodings``), SHA-256 and fsync included.

DuckDB, in its own process (``bench/pg_export.py``'s worker, interpreter start-up
included): ``scan`` reads the table into Arrow batches it drops (its decode), ``copy`` is
the whole ``COPY ... TO parquet``. The ``-id`` columns subtract the key-only table's
figures: what the column itself costs. Medians of ``--rounds``; CPU seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import benchlib
import pg_export
import pg_tables


def adu_stages(url: str, name: str, datadir: str | None) -> dict[str, float]:
    from adu_core.plugin.components import NeverCancelled
    from adu_pandera import PanderaValidator
    from adu_parquet.options import ParquetOptions
    from adu_parquet.writer import ParquetPartitionWriter
    from adu_postgres.source import PostgresSource

    source = PostgresSource(url, {})
    (table,) = [t for t in source.discover() if t.qualified_name == name]
    parts = source.partitions(table, target=2)
    out: dict[str, float] = {}
    srv0, t0 = benchlib.server_cpu(datadir), time.process_time()
    batches = [b for p in parts for b in source.read(p, snapshot={}, batch_rows=32768, cancel=NeverCancelled())]
    out["read"] = time.process_time() - t0
    source.close()  # the backends end: the postmaster accounts for their CPU when it reaps them
    time.sleep(0.3)
    out["server"] = benchlib.server_cpu(datadir) - srv0
    validator = PanderaValidator({"infer": True})
    validator.check_rules([table])
    tv = validator.for_table(table)
    root = Path(tempfile.mkdtemp(prefix="adu-bench-types-"))
    t0 = time.process_time()
    if tv is not None:
        for b in batches:
            tv.validate(b)
    validate_rows = time.process_time() - t0
    t0 = time.process_time()
    writer = ParquetPartitionWriter(
        root=root, staging_dir=root, stem="p", schema=table.arrow_schema(), options=ParquetOptions.from_mapping({})
    )
    for b in batches:
        writer.write(b)
    files = [str(root / f.path) for f in writer.close()]
    out["write"] = time.process_time() - t0
    t0 = time.process_time()
    if tv is not None:
        tv.merge([tv.partial()])
        tv.check_table(files)
    out["validate"] = validate_rows + time.process_time() - t0
    out["bytes"] = sum(Path(f).stat().st_size for f in files)
    for f in files:
        Path(f).unlink()
    return out


def duckdb_cpu(url: str, name: str, worker: str, datadir: str | None) -> tuple[float, float]:
    out = tempfile.mkdtemp(prefix="adu-bench-types-duck-")
    cmd = [sys.executable, pg_export.__file__, "--worker", worker, "--url", url, "--out", out, "--tables", name]
    (_wall, _rss, _pss, ccpu, scpu), rc = benchlib.measure_cpu(cmd, None, datadir)
    if rc:
        raise SystemExit(f"{worker} failed on {name}")
    return ccpu, scpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--types", help="columns of the wide table (default: all, and the key alone)")
    a = ap.parse_args()
    from pgserver import PgServer

    pg = PgServer().start()
    datadir = str(pg.datadir) if pg.datadir else None
    try:
        only = None if not a.types else ["id", *a.types.split(",")]
        names = pg_tables.make_types(pg, a.rows, only)
        print(f"\n{benchlib.machine_load()}; medians of {a.rounds} round(s), CPU seconds", flush=True)
        rows: dict[str, dict[str, float]] = {}
        for name in names:
            runs: list[dict[str, float]] = []
            for _ in range(a.rounds):
                stages = adu_stages(pg.superuser_dsn, name, datadir)
                stages["duck scan"], stages["duck server"] = duckdb_cpu(pg.superuser_dsn, name, "duckdb-scan", datadir)
                stages["duck copy"], _ = duckdb_cpu(pg.superuser_dsn, name, "duckdb", datadir)
                runs.append(stages)
            rows[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"   {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in rows[name].items() if k != "bytes"), flush=True)
        report(rows)
    finally:
        pg.stop()


def report(rows: dict[str, dict[str, float]]) -> None:
    base = next((v for k, v in rows.items() if ".type_id_" in k), None)
    print(
        f"\n   {'column':10s} {'read':>6s} {'valid':>6s} {'write':>6s} {'ADU':>6s} {'srv':>5s}"
        f" {'dscan':>6s} {'dcopy':>6s} {'dsrv':>5s} {'ADU/duck':>8s} {'ADU-id':>7s} {'duck-id':>7s} {'ratio-id':>8s}"
    )
    for name, r in rows.items():
        col = name.split(".")[1].removeprefix("type_").rsplit("_", 1)[0]
        adu = r["read"] + r["validate"] + r["write"]
        line = (
            f"   {col:10s} {r['read']:6.2f} {r['validate']:6.2f} {r['write']:6.2f} {adu:6.2f} {r['server']:5.2f}"
            f" {r['duck scan']:6.2f} {r['duck copy']:6.2f} {r['duck server']:5.2f} {adu / r['duck copy']:7.2f}x"
        )
        if base is not None and r is not base:
            adu_id = adu - (base["read"] + base["validate"] + base["write"])
            duck_id = r["duck copy"] - base["duck copy"]
            ratio = f"{adu_id / duck_id:7.2f}x" if duck_id > 0.01 else "      -"
            line += f" {adu_id:7.2f} {duck_id:7.2f} {ratio:>8s}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
